// When group commit may write a batch with a synchronous write on the event loop instead of handing it to a libuv
// threadpool thread. In 'os' mode a batch write only copies bytes into the page cache: a few microseconds for a
// batch of small commits, while the round trip to a threadpool thread and back costs 30–60 µs on a small VM (more
// than the copy itself), and pays it again for every turn of appends. A page-cache write can still block, when the
// kernel throttles a writer whose dirty pages outrun writeback: the policy then sends batches to the threadpool
// until the disk has had a quiet second, so the event loop is blocked by at most one slow write in a row.
//
// Durable writes ('fsync' mode) never go inline: they wait for the disk by definition.

/** The largest batch written inline: copying a MiB into the page cache takes a few hundred µs. */
export const INLINE_MAX_BYTES = 1024 * 1024
/** A write that blocked the loop this long (ms) shows writeback pressure. */
export const INLINE_SLOW_MS = 2
/** How long (ms) after a slow write batches go to the threadpool. */
export const INLINE_BACKOFF_MS = 1000

/** See the file header. One per writable log. */
export class InlineWrites {
  readonly #enabled: boolean
  readonly #now: () => number
  /** Until when (clock ms) writes go to the threadpool after a slow one. */
  #backoffUntil = Number.NEGATIVE_INFINITY
  /** Writes that took INLINE_SLOW_MS or more, for tests and diagnostics. */
  #slowWrites = 0

  constructor(enabled: boolean, now: () => number = () => performance.now()) {
    this.#enabled = enabled
    this.#now = now
  }

  /** Slow inline writes seen so far. */
  get slowWrites(): number {
    return this.#slowWrites
  }

  /** The clock, for timing a write this policy allowed. */
  now(): number {
    return this.#now()
  }

  /** Whether a batch of `bytes` may be written inline now. */
  allows(bytes: number): boolean {
    return this.#enabled && bytes <= INLINE_MAX_BYTES && this.#now() >= this.#backoffUntil
  }

  /** An inline write that started at `startedAt` (from {@link now}) has returned. */
  finished(startedAt: number): void {
    const end = this.#now()
    if (end - startedAt < INLINE_SLOW_MS) return
    this.#slowWrites++
    this.#backoffUntil = end + INLINE_BACKOFF_MS
  }
}
