// Inline writes (inline-writes.ts, `inlineWrites` of openLog): in 'os' mode a batch of up to 1 MiB is written with
// the handle's synchronous `writeSync` on the event loop instead of through the threadpool. These tests pin when
// that happens (the policy, and which calls a real log makes), that it never happens for durable writes, and that
// what is written inline reads back like any batch. Faults thrown by an inline write are in fault-injection.test.ts
// (the "'os' mode, batches written inline" layer); a kill -9 of an 'os'-mode writer is in kill-9.test.ts.
import { join } from 'node:path'
import { tempDir, wrapFileLayer, wrapHandle } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type Durability, type FileLayer, LogConfigError, nodeFileLayer, openLog } from '../src/index.js'
import { INLINE_BACKOFF_MS, INLINE_MAX_BYTES, INLINE_SLOW_MS, InlineWrites } from '../src/internal/inline-writes.js'

/** Batch writes into segments (position > 0: not a segment header), by the way they were made. */
interface WriteCounts {
  inline: number
  threadpool: number
}

/** The real file system, counting batch writes; `slowFirst` makes the first inline write take `slowFirst` ms. */
function countingLayer(counts: WriteCounts, options: { slowFirst?: number; noWriteSync?: boolean } = {}): FileLayer {
  let slow = options.slowFirst ?? 0
  return wrapFileLayer(nodeFileLayer, {
    open: async (path, mode, openOptions) => {
      const handle = await nodeFileLayer.open(path, mode, openOptions)
      const isSegment = path.includes('segment-')
      const wrapped = wrapHandle(handle, {
        write: (buffer, offset, length, position) => {
          if (isSegment && position > 0) counts.threadpool++
          return handle.write(buffer, offset, length, position)
        },
        writeSync: (buffer, offset, length, position) => {
          if (isSegment && position > 0) counts.inline++
          if (slow > 0) {
            const until = performance.now() + slow
            while (performance.now() < until) {
              // A write the kernel held up: the loop is blocked for `slowFirst` ms.
            }
            slow = 0
          }
          return handle.writeSync!(buffer, offset, length, position)
        },
      })
      if (options.noWriteSync) delete (wrapped as { writeSync?: unknown }).writeSync
      return wrapped
    },
  })
}

/** `turns` turns of `perTurn` appends of `size` bytes, one sync each. */
async function appendTurns(log: Awaited<ReturnType<typeof openLog>>, turns: number, perTurn = 3, size = 40) {
  for (let t = 0; t < turns; t++) {
    for (let i = 0; i < perTurn; i++) log.append(Buffer.alloc(size, log.head.seq + 1))
    await log.sync()
  }
}

async function countWrites(
  durability: Durability,
  options: { inlineWrites?: boolean; noWriteSync?: boolean } = {},
): Promise<WriteCounts> {
  const counts = { inline: 0, threadpool: 0 }
  const dir = tempDir('inline')
  const fileLayer = countingLayer(counts, options)
  const inline = options.inlineWrites === undefined ? {} : { inlineWrites: options.inlineWrites }
  const log = await openLog(dir, { durability, fileLayer, ...inline })
  await appendTurns(log, 10)
  await log.close()
  return counts
}

describe('the inline write policy', () => {
  it('allows batches up to INLINE_MAX_BYTES, and none when disabled', () => {
    const on = new InlineWrites(true, () => 0)
    expect(on.allows(1)).toBe(true)
    expect(on.allows(INLINE_MAX_BYTES)).toBe(true)
    expect(on.allows(INLINE_MAX_BYTES + 1)).toBe(false)
    const off = new InlineWrites(false, () => 0)
    expect(off.allows(1)).toBe(false)
  })

  it('sends batches to the threadpool for INLINE_BACKOFF_MS after a write that took INLINE_SLOW_MS', () => {
    let now = 1000
    const policy = new InlineWrites(true, () => now)
    const fast = policy.now()
    now += INLINE_SLOW_MS - 0.5
    policy.finished(fast)
    expect(policy.slowWrites).toBe(0)
    expect(policy.allows(100), 'a write under the threshold changes nothing').toBe(true)
    const slow = policy.now()
    now += INLINE_SLOW_MS
    policy.finished(slow)
    expect(policy.slowWrites).toBe(1)
    expect(policy.allows(100)).toBe(false)
    now += INLINE_BACKOFF_MS - 1
    expect(policy.allows(100), 'still backing off').toBe(false)
    now += 1
    expect(policy.allows(100), 'back to inline after the backoff').toBe(true)
  })
})

describe('a log writing inline', () => {
  it("writes every batch inline in 'os' mode", async () => {
    const counts = await countWrites('os')
    expect(counts).toEqual({ inline: 10, threadpool: 0 })
  })

  it("never writes inline in 'fsync' mode, whatever inlineWrites says", async () => {
    expect(await countWrites('fsync')).toEqual({ inline: 0, threadpool: 10 })
    expect(await countWrites('fsync', { inlineWrites: true })).toEqual({ inline: 0, threadpool: 10 })
  })

  it('goes through the threadpool with inlineWrites: false, or a file layer without writeSync', async () => {
    expect(await countWrites('os', { inlineWrites: false })).toEqual({ inline: 0, threadpool: 10 })
    expect(await countWrites('os', { noWriteSync: true })).toEqual({ inline: 0, threadpool: 10 })
  })

  it('sends a batch over INLINE_MAX_BYTES to the threadpool', async () => {
    const counts = { inline: 0, threadpool: 0 }
    const dir = tempDir('inline')
    const log = await openLog(dir, { durability: 'os', fileLayer: countingLayer(counts) })
    await appendTurns(log, 1)
    await appendTurns(log, 1, 3, Math.ceil(INLINE_MAX_BYTES / 3))
    await appendTurns(log, 1)
    await log.close()
    expect(counts).toEqual({ inline: 2, threadpool: 1 })
  })

  it('backs off to the threadpool after an inline write blocked the loop, and reads back every commit', async () => {
    const counts = { inline: 0, threadpool: 0 }
    const dir = tempDir('inline')
    const fileLayer = countingLayer(counts, { slowFirst: INLINE_SLOW_MS + 1 })
    const log = await openLog(dir, { durability: 'os', fileLayer })
    const start = performance.now()
    await appendTurns(log, 5)
    const elapsed = performance.now() - start
    await log.close()
    // The first batch went inline (and was slow); the next ones, inside the backoff, through the threadpool. A
    // machine so slow that the backoff ran out would send a later one inline: the count then says so.
    expect(elapsed, 'the turns ran inside the backoff').toBeLessThan(INLINE_BACKOFF_MS)
    expect(counts).toEqual({ inline: 1, threadpool: 4 })
    const reopened = await openLog(dir, { readOnly: true })
    const read: [number, boolean][] = []
    for await (const c of reopened.read()) read.push([c.seq, Buffer.from(c.payload).equals(Buffer.alloc(40, c.seq))])
    await reopened.close()
    expect(read).toEqual(Array.from({ length: 15 }, (_, i) => [i + 1, true]))
  })

  it('is refused with a LogConfigError when not a boolean, before any file is made', async () => {
    const dir = join(tempDir('inline'), 'log')
    const options = { durability: 'os', inlineWrites: 'yes' } as unknown as Parameters<typeof openLog>[1]
    const error = await openLog(dir, options).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogConfigError)
    expect(error).toMatchObject({ code: 'LOG_CONFIG', context: { inlineWrites: 'yes' } })
  })
})
