// One writer per log (a lock file naming its holder, stale once the holder is gone), and read-only followers
// that open beside the writer, see its new commits and survive compaction deleting segments under them.
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SimFs, seededRng, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { LogLockedError, nodeFileLayer, openLog } from '../src/index.js'
import { runFixture } from './support/run-fixture.js'
import { bytes, readAll } from './support/text-commits.js'

describe('the writer lock', () => {
  it('refuses a second writer in the same process, naming the holder', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir)
    const error = await openLog(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogLockedError)
    expect((error as LogLockedError).code).toBe('LOG_LOCKED')
    expect((error as LogLockedError).context.holder).toMatchObject({ pid: process.pid })
    await log.close()
    const again = await openLog(dir)
    await again.close()
  })

  it('refuses a writer while another process holds the lock, and takes it over once that process is killed', async () => {
    const dir = tempDir('log')
    let ready!: () => void
    const holding = new Promise<void>((r) => (ready = r))
    const holder = runFixture('hold-lock.ts', [dir], (line) => {
      if (line === 'ready') ready()
    })
    await Promise.race([holding, holder.closed.then(({ stderr }) => Promise.reject(new Error(stderr)))])
    const error = await openLog(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogLockedError)
    expect((error as LogLockedError).context.holder).toMatchObject({ pid: holder.pid })
    expect((error as Error).message).toContain(String(holder.pid))
    // Read-only openers do not need the lock.
    const ro = await openLog(dir, { readOnly: true })
    await ro.close()
    holder.child.kill('SIGKILL')
    await holder.closed
    expect(readdirSync(dir)).toContain('LOCK')
    const log = await openLog(dir)
    log.append(bytes('mine now'))
    await log.close()
  })

  it('treats an unreadable lock file as stale', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir)
    await log.close()
    writeFileSync(join(dir, 'LOCK'), '')
    const again = await openLog(dir)
    await again.close()
  })

  it('takes over the lock a reboot leaves behind, whether removed, stale by start time or torn', async () => {
    const kinds = new Set<string>()
    for (let seed = 0; seed < 12; seed++) {
      const fs = new SimFs(seededRng(seed), { maxPause: 0 })
      fs.putDir('/db')
      const log = await openLog('/db/log', { fileLayer: fs })
      log.append(bytes('x'))
      await log.sync()
      const { fs: after, report } = fs.crash('keep-all', seededRng(seed))
      await log.close().catch(() => undefined)
      kinds.add(report.lock)
      const again = await openLog('/db/log', { fileLayer: after })
      expect(again.head.seq).toBe(1)
      await again.close()
    }
    expect(kinds.size).toBeGreaterThan(1)
  })
})

describe('a read-only follower', () => {
  it('sees the writer’s new commits, across segment rolls', async () => {
    const dir = tempDir('log')
    const writer = await openLog(dir, { segmentBytes: 1024, durability: 'os' })
    writer.append(bytes('before'))
    await writer.sync()
    const follower = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
    expect(follower.head.seq).toBe(1)
    const seen: number[] = []
    const controller = new AbortController()
    const tailing = (async () => {
      for await (const c of follower.tail({ from: 0, signal: controller.signal })) {
        seen.push(c.seq)
        if (c.seq === 200) controller.abort()
      }
    })()
    for (let i = 2; i <= 200; i++) {
      writer.append(bytes(`entry ${i}`))
      if (i % 10 === 0) await writer.sync()
    }
    await writer.sync()
    await tailing
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    expect(follower.head).toEqual(writer.head)
    expect(() => follower.append(bytes('no'))).toThrow(expect.objectContaining({ code: 'LOG_READ_ONLY' }))
    await Promise.all([writer.close(), follower.close()])
  })

  it('is woken by the file layer’s directory watch, long before its next poll', async () => {
    const dir = tempDir('log')
    const writer = await openLog(dir, { segmentBytes: 1024, durability: 'os' })
    // An hour between polls: every commit below reaches the follower through the watch alone.
    const follower = await openLog(dir, { readOnly: true, followIntervalMs: 3_600_000 })
    const seen: number[] = []
    const controller = new AbortController()
    const tailing = (async () => {
      for await (const c of follower.tail({ from: 0, signal: controller.signal })) {
        seen.push(c.seq)
        if (c.seq === 100) controller.abort()
      }
    })()
    for (let i = 1; i <= 100; i++) {
      writer.append(bytes(`entry ${i}`))
      if (i % 7 === 0) await writer.sync()
    }
    await writer.sync()
    await tailing
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(follower.head).toEqual(writer.head)
    await Promise.all([writer.close(), follower.close()])
  })

  it('follows by polling alone when the file layer has no watch', async () => {
    const dir = tempDir('log')
    const writer = await openLog(dir, { segmentBytes: 1024, durability: 'os' })
    const { watch: _unused, ...noWatch } = nodeFileLayer
    const follower = await openLog(dir, { readOnly: true, followIntervalMs: 5, fileLayer: noWatch })
    for (let i = 1; i <= 50; i++) writer.append(bytes(`entry ${i}`))
    await writer.sync()
    const seen: number[] = []
    for await (const c of follower.tail({ from: 0 })) {
      seen.push(c.seq)
      if (c.seq === 50) break
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    await Promise.all([writer.close(), follower.close()])
  })

  it('survives the writer deleting segments under it, asking for the snapshot when it needs them', async () => {
    const dir = tempDir('log')
    const writer = await openLog(dir, { segmentBytes: 1024, durability: 'os' })
    for (let i = 1; i <= 100; i++) writer.append(bytes(`e${i}`))
    await writer.sync()
    const follower = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
    await writer.snapshot(bytes('state'))
    for (let i = 101; i <= 120; i++) writer.append(bytes(`e${i}`))
    await writer.sync()
    await new Promise<void>((resolve) => {
      const off = follower.onAppend((head) => {
        if (head.seq === 120) {
          off()
          resolve()
        }
      })
    })
    await expect(readAll(follower, 10)).rejects.toMatchObject({ code: 'LOG_NEED_SNAPSHOT' })
    const snap = await follower.latestSnapshot()
    expect(snap?.seq).toBe(100)
    expect((await readAll(follower, 100)).map(([s]) => s)).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i))
    await Promise.all([writer.close(), follower.close()])
  })
})
