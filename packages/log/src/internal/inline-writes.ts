// When group commit may write a batch with a synchronous write on the event loop instead of handing it to a libuv
// threadpool thread. The round trip to a threadpool thread and back costs 30–60 µs on a small VM, paid by every
// batch: more than a page-cache copy, and a third of a durable write.
//
// - Page-cache writes ('os' mode, or 'fsync' where no O_DSYNC is given and an fdatasync follows) go inline up to
//   INLINE_MAX_BYTES: they only copy bytes, microseconds.
// - Durable writes (O_DSYNC, 'fsync' mode) wait for the disk, ~90 µs here and more on slower disks. They go inline
//   only while the event loop has little else to do: the share of the last window (LOAD_WINDOW_MS) the loop spent
//   running code other than inline writes must stay under BUSY_LOOP_SHARE. An idle loop loses nothing by waiting on
//   the disk itself (a single writer then commits ~30 % faster); a busy one keeps its time for other work and lets
//   the threadpool wait.
// - Either kind can still block for long: the kernel throttling a writer whose dirty pages outrun writeback, a disk
//   that stalls. After a write slower than its kind's limit (PAGE_CACHE_SLOW_MS, DURABLE_SLOW_MS) every batch goes
//   to the threadpool for INLINE_BACKOFF_MS, so the loop is blocked by at most one slow write in a row.

/** The largest batch written inline: copying a MiB into the page cache takes a few hundred µs. */
export const INLINE_MAX_BYTES = 1024 * 1024
/** A page-cache write that blocked the loop this long (ms) shows writeback pressure. */
export const PAGE_CACHE_SLOW_MS = 2
/** A durable write this slow (ms) is a stalling disk, not the usual jitter of a flush (p99.9 ~3 ms here). */
export const DURABLE_SLOW_MS = 20
/** How long (ms) after a slow write batches go to the threadpool. */
export const INLINE_BACKOFF_MS = 1000
/** How often (ms) the loop's load is measured for durable writes. */
export const LOAD_WINDOW_MS = 50
/** Durable writes go inline while the loop spent less than this share of the last window on other work. */
export const BUSY_LOOP_SHARE = 0.5

/** Cumulative event-loop time, as `performance.eventLoopUtilization()` reports it (ms). */
export interface LoopTime {
  readonly idle: number
  readonly active: number
}

/** What the policy may do, and the clocks it reads (tests pass their own). */
export interface InlineWritesOptions {
  /** Page-cache ('os') batches may go inline. */
  readonly pageCache: boolean
  /** Durable (O_DSYNC) batches may go inline while the loop is idle enough. */
  readonly durable: boolean
  readonly now?: () => number
  readonly loopTime?: () => LoopTime
}

/** See the file header. One per writable log. */
export class InlineWrites {
  readonly #pageCache: boolean
  readonly #durable: boolean
  readonly #now: () => number
  readonly #loopTime: () => LoopTime
  /** Until when (clock ms) writes go to the threadpool after a slow one. */
  #backoffUntil = Number.NEGATIVE_INFINITY
  #slowWrites = 0
  /** The loop time at the start of the current window, and the inline write time within it. */
  #window: { readonly at: number; readonly loop: LoopTime; inlineMs: number }
  /** Whether the last window left the loop idle enough for durable writes (not until one was measured). */
  #idleLoop = false

  constructor(options: InlineWritesOptions) {
    this.#pageCache = options.pageCache
    this.#durable = options.durable
    this.#now = options.now ?? (() => performance.now())
    this.#loopTime = options.loopTime ?? (() => performance.eventLoopUtilization())
    this.#window = { at: this.#now(), loop: this.#loopTime(), inlineMs: 0 }
  }

  /** Slow inline writes seen so far. */
  get slowWrites(): number {
    return this.#slowWrites
  }

  /** The clock, for timing a write this policy allowed. */
  now(): number {
    return this.#now()
  }

  /** Whether a batch of `bytes` may be written inline now; `durable`: through an O_DSYNC handle. */
  allows(bytes: number, durable: boolean): boolean {
    if (!(durable ? this.#durable : this.#pageCache) || bytes > INLINE_MAX_BYTES) return false
    const now = this.#now()
    if (now < this.#backoffUntil) return false
    return !durable || this.#loopIsIdle(now)
  }

  /** An inline write that started at `startedAt` (from {@link now}) has returned. */
  finished(startedAt: number, durable: boolean): void {
    const end = this.#now()
    const took = end - startedAt
    this.#window.inlineMs += took
    if (took < (durable ? DURABLE_SLOW_MS : PAGE_CACHE_SLOW_MS)) return
    this.#slowWrites++
    this.#backoffUntil = end + INLINE_BACKOFF_MS
  }

  /** Closes the window once LOAD_WINDOW_MS have passed and judges it: loop time minus inline writes. */
  #loopIsIdle(now: number): boolean {
    const window = this.#window
    if (now - window.at < LOAD_WINDOW_MS) return this.#idleLoop
    const loop = this.#loopTime()
    const active = loop.active - window.loop.active
    const total = active + (loop.idle - window.loop.idle)
    const busy = total > 0 ? Math.max(0, active - window.inlineMs) / total : 0
    this.#idleLoop = busy < BUSY_LOOP_SHARE
    this.#window = { at: now, loop, inlineMs: 0 }
    return this.#idleLoop
  }
}
