// The README's examples, run as written (a temporary directory instead of ./data/log and ./replica), with the
// values they print checked, so the README cannot drift from the code.
import { join } from 'node:path'
import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type Log, openLog, verifyLog } from '../src/index.js'

const text = (s: string) => new TextEncoder().encode(s)

describe('README examples', () => {
  it('quick start: append, sync, head, read, close, verify', async () => {
    const dir = join(tempDir('log'), 'log')
    const log = await openLog(dir, { durability: 'fsync', segmentBytes: 4 * 1024 * 1024 })
    const seq = log.append(new TextEncoder().encode('hello'))
    expect(seq).toBe(1)
    await log.sync()
    expect(log.head).toEqual({ seq: 1, chain: expect.stringMatching(/^[0-9a-f]{16}$/) })
    const read: [number, string][] = []
    for await (const { seq, payload } of log.read({ from: 0 })) read.push([seq, new TextDecoder().decode(payload)])
    expect(read).toEqual([[1, 'hello']])
    await log.close()
    const report = await verifyLog(dir)
    expect(report.ok).toBe(true)
    expect(report.damage).toEqual([])
  })

  it('replays in batches: every commit once, in order, a batch per step', async () => {
    const log = await openLog(tempDir('log'))
    for (let i = 0; i < 3; i++) log.append(text(`commit ${i}`))
    await log.sync()
    const seen: [number, number][] = []
    for await (const batch of log.readBatches({ from: 0 })) {
      for (const { seq, payload } of batch) seen.push([seq, payload.byteLength])
    }
    expect(seen).toEqual([
      [1, 8],
      [2, 8],
      [3, 8],
    ])
    await log.close()
  })

  it('256 concurrent writers each see their commit durable', async () => {
    const log = await openLog(tempDir('log'))
    await Promise.all(
      Array.from({ length: 256 }, async (_, i) => {
        log.append(new TextEncoder().encode(`writer ${i}`))
        await log.sync()
      }),
    )
    expect(log.head.seq).toBe(256)
    await log.close()
  })

  it('tail until aborted, and a read-only follower beside the writer', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir)
    log.append(text('before'))
    await log.sync()
    const follower = await openLog(dir, { readOnly: true })
    const reached: number[] = []
    follower.onAppend((head) => reached.push(head.seq))
    const controller = new AbortController()
    const seen: string[] = []
    const tailing = (async () => {
      for await (const commit of log.tail({ from: log.head.seq, signal: controller.signal })) {
        seen.push(new TextDecoder().decode(commit.payload))
        controller.abort()
      }
    })()
    log.append(text('new'))
    await log.sync()
    await tailing
    expect(seen).toEqual(['new'])
    // The follower learns of seq 2 through its directory watch or its poll.
    for await (const c of follower.tail({ from: 1 })) if (c.seq === 2) break
    expect(follower.head).toEqual(log.head)
    await Promise.all([log.close(), follower.close()])
  })

  it('a read-only log reports failed looks to onError, and close lets it go', async () => {
    const dir = tempDir('log')
    await (await openLog(dir)).close()
    const errors: Error[] = []
    const reader = await openLog(dir, { readOnly: true, onError: (error) => errors.push(error) })
    expect(reader.readOnly).toBe(true)
    await reader.close()
    expect(reader.closed).toBe(true)
    expect(errors).toEqual([])
  })

  it('positions: durable trails head until sync', async () => {
    const log2 = await openLog(join(tempDir('log'), 'log2'))
    log2.append(new TextEncoder().encode('not yet synced'))
    expect([log2.head.seq, log2.durable.seq]).toEqual([1, 0])
    await log2.sync()
    expect(log2.durable.seq).toBe(1)
    await log2.close()
  })

  it('snapshots, replay after them, and retention holds', async () => {
    const log = await openLog(tempDir('log'), { segmentBytes: 1024 })
    for (let i = 0; i < 40; i++) log.append(text(`entry ${i}`))
    await log.sync()
    const stateBytes = text('the state at seq 40')
    await log.snapshot(stateBytes)
    log.append(text('after'))
    await log.sync()
    const snap = await log.latestSnapshot()
    expect(snap?.seq).toBe(40)
    const chunks: Uint8Array[] = []
    const after: number[] = []
    if (snap) {
      for await (const chunk of snap.chunks()) chunks.push(chunk)
      for await (const c of log.read({ from: snap.seq })) after.push(c.seq)
    }
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(stateBytes))
    expect(after).toEqual([41])
    log.hold('replica-7', 1200)
    log.release('replica-7')
    await log.close()
  })

  it('replication hooks: encoded frames continue the same history byte for byte', async () => {
    const source: Log = await openLog(tempDir('log'))
    for (let i = 0; i < 10; i++) source.append(text(`commit ${i}`))
    await source.sync()
    const frames: Uint8Array[] = []
    for await (const { frame } of source.readEncoded({ from: 0 })) frames.push(frame)
    const target = await openLog(join(tempDir('log'), 'replica'), {
      create: { logId: source.logId, start: { seq: 0, chain: '0000000000000000' } },
    })
    target.appendEncoded(frames)
    await target.sync()
    expect(target.head).toEqual(source.head)
    expect(target.logId).toBe(source.logId)
    await Promise.all([source.close(), target.close()])
  })
})
