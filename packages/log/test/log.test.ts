// Behaviour of the log's public API: appends and seqs, reads, durability modes, limits, encoded frames, snapshots.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { dirBytes, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  type Log,
  LogConfigError,
  LogInputError,
  LogReadError,
  LogSnapshotError,
  LogStateError,
  openLog,
  verifyLog,
} from '../src/index.js'
import { bytes, readAll, text } from './support/text-commits.js'

describe.each(['fsync', 'os', 'memory'] as const)('a log in %s mode', (durability) => {
  const open = (dir = tempDir('log'), options = {}) =>
    openLog(durability === 'memory' ? undefined : dir, { durability, segmentBytes: 2048, ...options })

  it('numbers commits from 1, advances the head and reads them back in order', async () => {
    const log = await open()
    expect(log.head.seq).toBe(0)
    const seqs = ['a', 'b', 'c'].map((t) => log.append(bytes(t)))
    expect(seqs).toEqual([1, 2, 3])
    expect(log.head.seq).toBe(3)
    expect(log.head.chain).toMatch(/^[0-9a-f]{16}$/)
    await log.sync()
    expect(await readAll(log)).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ])
    expect(await readAll(log, 2)).toEqual([[3, 'c']])
    await log.close()
  })

  it('reads appends that were not yet synced', async () => {
    const log = await open()
    log.append(bytes('x'))
    expect(await readAll(log)).toEqual([[1, 'x']])
    await log.close()
  })

  it('gives the same history the same chain whatever the segment size', async () => {
    const a = await open(tempDir('log'), { segmentBytes: 1024 })
    const b = await open(tempDir('log'), { segmentBytes: 1024 * 1024 })
    for (let i = 0; i < 200; i++) {
      a.append(bytes(`payload ${i}`))
      b.append(bytes(`payload ${i}`))
      if (i % 7 === 0) await Promise.all([a.sync(), b.sync()])
    }
    expect(a.head).toEqual(b.head)
    const changed = await open()
    for (let i = 0; i < 200; i++) changed.append(bytes(i === 100 ? 'other' : `payload ${i}`))
    expect(changed.head.seq).toBe(200)
    expect(changed.head.chain).not.toBe(a.head.chain)
    await Promise.all([a.close(), b.close(), changed.close()])
  })

  it('refuses a payload over the limit before writing anything', async () => {
    const dir = tempDir('log')
    const log = await open(dir, { maxPayloadBytes: 100 })
    log.append(bytes('ok'))
    await log.sync()
    const before = durability === 'memory' ? {} : dirBytes(dir)
    expect(() => log.append(new Uint8Array(101))).toThrow(LogInputError)
    try {
      log.append(new Uint8Array(101))
    } catch (error) {
      expect((error as LogInputError).code).toBe('LOG_FRAME_TOO_LARGE')
      expect((error as LogInputError).context).toMatchObject({ bytes: 101, limit: 100, seq: 1 })
    }
    await log.sync()
    expect(log.head.seq).toBe(1)
    if (durability !== 'memory') expect(dirBytes(dir)).toEqual(before)
    await log.close()
  })

  it('refuses payloads that are not bytes', async () => {
    const log = await open()
    expect(() => log.append('text' as unknown as Uint8Array)).toThrow(LogInputError)
    expect(log.head.seq).toBe(0)
    await log.close()
  })

  it('refuses writes after close', async () => {
    const log = await open()
    await log.close()
    expect(() => log.append(bytes('late'))).toThrow(LogStateError)
    expect(() => log.append(bytes('late'))).toThrow(/closed/)
  })

  it('copies encoded commits to another log byte for byte and continues the same history', async () => {
    const source = await open()
    for (let i = 0; i < 50; i++) source.append(bytes(`c${i}`))
    await source.sync()
    const frames: Uint8Array[] = []
    for await (const c of source.readEncoded({ from: 0 })) frames.push(c.frame)
    const target = await openLog(durability === 'memory' ? undefined : tempDir('log'), {
      durability,
      create: { logId: source.logId },
    })
    expect(target.appendEncoded(frames.slice(0, 20))).toBe(20)
    expect(target.appendEncoded(frames.slice(20))).toBe(50)
    expect(target.head).toEqual(source.head)
    const copied: Uint8Array[] = []
    for await (const c of target.readEncoded()) copied.push(c.frame)
    expect(copied.map((f) => Buffer.from(f).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')))
    expect(target.append(bytes('next'))).toBe(51)
    await Promise.all([source.close(), target.close()])
  })

  it('rejects received frames that are damaged, out of order or from another history, all or nothing', async () => {
    const source = await open()
    for (let i = 0; i < 5; i++) source.append(bytes(`c${i}`))
    const frames: Uint8Array[] = []
    for await (const c of source.readEncoded()) frames.push(Uint8Array.from(c.frame))
    const target = await open()
    const flipped = Uint8Array.from(frames[1]!)
    flipped[flipped.length - 1]! ^= 1
    expect(() => target.appendEncoded([frames[0]!, flipped])).toThrow(
      expect.objectContaining({ code: 'LOG_BAD_FRAME' }),
    )
    expect(target.head.seq).toBe(0)
    expect(() => target.appendEncoded([frames[1]!])).toThrow(expect.objectContaining({ code: 'LOG_POSITION_MISMATCH' }))
    target.append(bytes('own history'))
    expect(() => target.appendEncoded([frames[1]!])).toThrow(expect.objectContaining({ code: 'LOG_POSITION_MISMATCH' }))
    expect(target.head.seq).toBe(1)
    await Promise.all([source.close(), target.close()])
  })

  it('continues someone else’s history from a given position', async () => {
    const log = await openLog(durability === 'memory' ? undefined : tempDir('log'), {
      durability,
      create: { logId: 'ab'.repeat(16), start: { seq: 41, chain: '0123456789abcdef' } },
    })
    expect(log.logId).toBe('ab'.repeat(16))
    expect(log.head).toEqual({ seq: 41, chain: '0123456789abcdef' })
    expect(log.append(bytes('x'))).toBe(42)
    expect(await readAll(log, 41)).toEqual([[42, 'x']])
    await log.close()
  })

  it('shows as durable only what sync() made durable under its mode', async () => {
    const log = await open()
    log.append(bytes('a'))
    expect(log.durable.seq).toBe(durability === 'memory' ? 1 : 0)
    expect(log.head.seq).toBe(1)
    await log.sync()
    expect(log.durable).toEqual(log.head)
    await log.close()
  })

  it('reads in batches exactly the commits read() gives, from any seq, in order and in non-empty batches', async () => {
    const dir = tempDir('log')
    const writer = await open(dir)
    for (let i = 1; i <= 2500; i++) {
      writer.append(bytes(`commit ${i} ${'x'.repeat(i % 97)}`))
      if (i % 50 === 0) await writer.sync() // a batch per 50, so segments roll
    }
    // What the writer reads back (the newest commits from the batches it keeps in memory) is what the files hold.
    const fromMemory: [number, string][] = []
    for await (const c of writer.read({ from: 2000 })) fromMemory.push([c.seq, c.chain + text(c.payload)])
    // Reopened, the log has nothing in memory: every read goes to the files ('memory' logs have no files).
    if (durability !== 'memory') await writer.close()
    const log = durability === 'memory' ? writer : await open(dir)
    const fromFiles: [number, string][] = []
    for await (const c of log.read({ from: 2000 })) fromFiles.push([c.seq, c.chain + text(c.payload)])
    expect(fromMemory).toEqual(fromFiles)
    for (const from of [0, 1, 1023, 1024, 1777, 2499, 2500, 2600]) {
      const batches: (readonly { seq: number; chain: string; payload: Uint8Array }[])[] = []
      for await (const batch of log.readBatches({ from })) batches.push(batch)
      expect(batches.every((b) => b.length > 0)).toBe(true)
      const flat = batches.flat()
      expect(flat.map((c) => c.seq)).toEqual(Array.from({ length: Math.max(0, 2500 - from) }, (_, i) => from + i + 1))
      const one: { seq: number; chain: string; payload: string }[] = []
      for await (const c of log.read({ from })) one.push({ seq: c.seq, chain: c.chain, payload: text(c.payload) })
      expect(flat.map((c) => ({ seq: c.seq, chain: c.chain, payload: text(c.payload) }))).toEqual(one)
      if (from === 0) expect(batches.length, 'more than one batch').toBeGreaterThan(1)
    }
    const error = await (async () => {
      for await (const _ of log.readBatches({ from: -1 })) expect.unreachable()
    })().catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'LOG_CONFIG', context: { from: -1 } })
    await log.close()
  })

  it('refuses to read from a seq that is not a non-negative integer, with a config error', async () => {
    const log = await open()
    log.append(bytes('a'))
    for (const from of [-1, 1.5, Number.NaN]) {
      const error = await readAll(log, from).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LogConfigError)
      expect(error).toMatchObject({ code: 'LOG_CONFIG', context: { from } })
    }
    await log.close()
  })

  it('writes snapshots, returns the latest, and releases commits the snapshot covers', async () => {
    const dir = tempDir('log')
    const log = await open(dir, { segmentBytes: 1024 })
    for (let i = 1; i <= 100; i++) {
      log.append(bytes(`c${i}`))
      if (i % 10 === 0) await log.sync()
    }
    expect(await log.latestSnapshot()).toBeUndefined()
    const info = await log.snapshot([bytes('state '), bytes('at 100')])
    expect(info).toMatchObject({ seq: 100, chain: log.head.chain, bytes: 12 })
    const snap = await log.latestSnapshot()
    expect(snap?.seq).toBe(100)
    expect(text(await snap!.payload())).toBe('state at 100')
    expect(log.start.seq).toBe(100)
    const gone = await readAll(log, 50).catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(LogReadError)
    expect(gone).toMatchObject({ code: 'LOG_NEED_SNAPSHOT', context: { from: 50, start: 100 } })
    log.append(bytes('after'))
    expect(await readAll(log, 100)).toEqual([[101, 'after']])
    await log.close()
  })

  it('keeps held commits when snapshotting, until released', async () => {
    const log = await open(tempDir('log'), { segmentBytes: 1024 })
    for (let i = 1; i <= 100; i++) {
      log.append(bytes(`c${i}`))
      if (i % 10 === 0) await log.sync()
    }
    log.hold('replica-a', 40)
    await log.snapshot(bytes('s'))
    expect(log.start.seq).toBeLessThanOrEqual(40)
    expect((await readAll(log, 40)).length).toBe(60)
    log.release('replica-a')
    for (let i = 0; i < 5; i++) log.append(bytes('more'))
    await log.snapshot(bytes('s2'))
    expect(log.start.seq).toBe(105)
    await log.close()
  })

  it('refuses snapshots beyond the head or older than the latest', async () => {
    const log = await open()
    log.append(bytes('a'))
    await expect(log.snapshot(bytes('s'), 5)).rejects.toBeInstanceOf(LogSnapshotError)
    await log.snapshot(bytes('s'), 1)
    log.append(bytes('b'))
    await expect(log.snapshot(bytes('s'), 0)).rejects.toMatchObject({ code: 'LOG_SNAPSHOT' })
    await log.close()
  })

  it('tails: reads what exists, then waits for new commits until aborted', async () => {
    const log = await open()
    log.append(bytes('1'))
    const controller = new AbortController()
    const seen: number[] = []
    const done = (async () => {
      for await (const c of log.tail({ from: 0, signal: controller.signal })) {
        seen.push(c.seq)
        if (c.seq === 3) controller.abort()
      }
    })()
    await new Promise((r) => setImmediate(r))
    log.append(bytes('2'))
    await log.sync()
    log.append(bytes('3'))
    await done
    expect(seen).toEqual([1, 2, 3])
    await log.close()
  })
})

describe('a log on disk', () => {
  it('keeps its commits, logId and chain across reopen', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { segmentBytes: 1024 })
    for (let i = 1; i <= 120; i++) {
      log.append(bytes(`entry ${i}`))
      if (i % 13 === 0) await log.sync()
    }
    await log.close()
    const again = await openLog(dir)
    expect(again.logId).toBe(log.logId)
    expect(again.head).toEqual(log.head)
    expect(again.recovery).toEqual({ truncatedBytes: 0, droppedCommits: 0 })
    const all = await readAll(again)
    expect(all.map(([s]) => s)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    expect(all[119]).toEqual([120, 'entry 120'])
    expect(readdirSync(dir).filter((n) => n.startsWith('segment-')).length).toBeGreaterThan(3)
    await again.close()
  })

  it('rejects bad options with a typed config error', async () => {
    await expect(openLog(undefined, { durability: 'fsync' })).rejects.toBeInstanceOf(LogConfigError)
    await expect(openLog(tempDir('log'), { durability: 'disk' as 'os' })).rejects.toMatchObject({ code: 'LOG_CONFIG' })
    await expect(openLog(tempDir('log'), { segmentBytes: 10 })).rejects.toMatchObject({ code: 'LOG_CONFIG' })
    await expect(openLog(tempDir('log'), { create: { logId: 'nope' } })).rejects.toMatchObject({ code: 'LOG_CONFIG' })
    await expect(openLog(join(tempDir('log'), 'missing'), { readOnly: true })).rejects.toMatchObject({
      code: 'LOG_CONFIG',
    })
  })

  it('verifies a healthy log without changing it', async () => {
    const dir = tempDir('log')
    const log: Log = await openLog(dir, { segmentBytes: 1024 })
    for (let i = 0; i < 60; i++) log.append(bytes(`v${i}`))
    await log.sync()
    await log.snapshot(bytes('snap'))
    await log.close()
    const before = dirBytes(dir)
    const report = await verifyLog(dir)
    expect(report.ok).toBe(true)
    expect(report.head).toEqual(log.head)
    expect(report.logId).toBe(log.logId)
    expect(report.snapshots).toEqual([expect.objectContaining({ seq: 60, valid: true })])
    expect(dirBytes(dir)).toEqual(before)
  })
})
