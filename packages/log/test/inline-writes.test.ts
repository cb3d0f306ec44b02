// Inline writes (inline-writes.ts, `inlineWrites` of openLog): a batch written with the handle's synchronous
// `writeSync` on the event loop instead of through the threadpool — a page-cache write up to 1 MiB, a durable
// (O_DSYNC) one only while the loop is idle enough. These tests pin when that happens (the policy with its own
// clocks, and the calls a real log makes) and that what is written inline reads back like any batch. Faults thrown
// by an inline write are in fault-injection.test.ts (the "'os' mode, batches written inline" layer, and the 'fsync'
// layers whenever the loop was idle); kill -9 of a writer in either mode is in kill-9.test.ts.
import { join } from 'node:path'
import { tempDir, wrapFileLayer, wrapHandle } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type Durability, type FileLayer, LogConfigError, nodeFileLayer, openLog } from '../src/index.js'
import {
  BUSY_LOOP_SHARE,
  DURABLE_SLOW_MS,
  INLINE_BACKOFF_MS,
  INLINE_MAX_BYTES,
  InlineWrites,
  LOAD_WINDOW_MS,
  PAGE_CACHE_SLOW_MS,
} from '../src/internal/inline-writes.js'

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

/** A policy on clocks the test moves: `now` and the loop's cumulative idle and active time (ms). */
function policyOnClocks(options: { pageCache?: boolean; durable?: boolean } = {}) {
  const clock = { now: 1000, idle: 0, active: 0 }
  const policy = new InlineWrites({
    pageCache: options.pageCache ?? true,
    durable: options.durable ?? true,
    now: () => clock.now,
    loopTime: () => ({ idle: clock.idle, active: clock.active }),
  })
  /** `ms` pass, `busyShare` of them running code. */
  const pass = (ms: number, busyShare: number) => {
    clock.now += ms
    clock.active += ms * busyShare
    clock.idle += ms * (1 - busyShare)
  }
  return { clock, policy, pass }
}

describe('the inline write policy', () => {
  it('allows page-cache batches up to INLINE_MAX_BYTES at once, and none when disabled', () => {
    const { policy } = policyOnClocks()
    expect(policy.allows(1, false)).toBe(true)
    expect(policy.allows(INLINE_MAX_BYTES, false)).toBe(true)
    expect(policy.allows(INLINE_MAX_BYTES + 1, false)).toBe(false)
    expect(policyOnClocks({ pageCache: false }).policy.allows(1, false)).toBe(false)
  })

  it('allows durable batches only once a window of LOAD_WINDOW_MS shows the loop idle enough', () => {
    const { policy, pass } = policyOnClocks()
    expect(policy.allows(100, true), 'no window measured yet').toBe(false)
    pass(LOAD_WINDOW_MS, 0.2)
    expect(policy.allows(100, true), 'the loop ran code 20 % of the window').toBe(true)
    pass(LOAD_WINDOW_MS - 1, 0.9)
    expect(policy.allows(100, true), 'the window is still open: the last verdict holds').toBe(true)
    pass(1, 0.9)
    expect(policy.allows(100, true), `busier than ${BUSY_LOOP_SHARE}`).toBe(false)
    expect(policy.allows(100, false), 'page-cache writes do not look at the load').toBe(true)
    expect(policyOnClocks({ durable: false }).policy.allows(100, true)).toBe(false)
  })

  it("does not count its own inline writes as the loop's work", () => {
    const { policy, pass } = policyOnClocks()
    pass(LOAD_WINDOW_MS, 0.1)
    expect(policy.allows(100, true)).toBe(true)
    // 90 % of the next window is spent in ten inline writes (none slow): the loop itself stays idle.
    for (let i = 0; i < 10; i++) {
      const start = policy.now()
      pass(LOAD_WINDOW_MS * 0.09, 1)
      policy.finished(start, true)
    }
    pass(LOAD_WINDOW_MS * 0.1, 0)
    expect(policy.slowWrites).toBe(0)
    expect(policy.allows(100, true)).toBe(true)
  })

  it('backs off to the threadpool for INLINE_BACKOFF_MS after a slow write of either kind', () => {
    for (const [durable, slowMs] of [
      [false, PAGE_CACHE_SLOW_MS],
      [true, DURABLE_SLOW_MS],
    ] as const) {
      const { policy, pass } = policyOnClocks()
      pass(LOAD_WINDOW_MS, 0)
      expect(policy.allows(100, durable)).toBe(true)
      let start = policy.now()
      pass(slowMs - 0.5, 0)
      policy.finished(start, durable)
      expect(policy.slowWrites, 'under the limit').toBe(0)
      expect(policy.allows(100, durable)).toBe(true)
      start = policy.now()
      pass(slowMs, 0)
      policy.finished(start, durable)
      expect(policy.slowWrites).toBe(1)
      expect(policy.allows(100, durable)).toBe(false)
      expect(policy.allows(100, !durable), 'the backoff holds for both kinds').toBe(false)
      pass(INLINE_BACKOFF_MS - 1, 0)
      expect(policy.allows(100, durable), 'still backing off').toBe(false)
      pass(1, 0)
      expect(policy.allows(100, durable), 'inline again after the backoff').toBe(true)
    }
  })
})

describe('a log writing inline', () => {
  it("writes every page-cache batch inline in 'os' mode", async () => {
    const counts = await countWrites('os')
    expect(counts).toEqual({ inline: 10, threadpool: 0 })
  })

  it('writes a durable batch inline after the loop sat idle, through the threadpool while it ran code', async () => {
    const counts = { inline: 0, threadpool: 0 }
    const log = await openLog(tempDir('inline'), { durability: 'fsync', fileLayer: countingLayer(counts) })
    // The loop's load over the last window is the input here, not a race: first a window spent running code...
    const until = performance.now() + LOAD_WINDOW_MS + 10
    while (performance.now() < until) {
      // busy
    }
    await appendTurns(log, 1)
    expect(counts, 'a busy loop leaves the durable write to the threadpool').toEqual({ inline: 0, threadpool: 1 })
    // ...then one spent waiting.
    await new Promise((resolve) => setTimeout(resolve, LOAD_WINDOW_MS + 10))
    await appendTurns(log, 1)
    await log.close()
    expect(counts, 'an idle loop writes it itself').toEqual({ inline: 1, threadpool: 1 })
  })

  it('goes through the threadpool with inlineWrites: false, or a file layer without writeSync', async () => {
    expect(await countWrites('os', { inlineWrites: false })).toEqual({ inline: 0, threadpool: 10 })
    expect(await countWrites('fsync', { inlineWrites: false })).toEqual({ inline: 0, threadpool: 10 })
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
    const fileLayer = countingLayer(counts, { slowFirst: PAGE_CACHE_SLOW_MS + 1 })
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
