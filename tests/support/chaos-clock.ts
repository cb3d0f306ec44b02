// The clock seam of the chaos proxy: every delay, stall, cut and partition is a timer on a `ChaosClock`. Real runs
// use the process clock; tests of the proxy itself drive a `manualClock` so a held request is released by the test
// advancing time, never by a sleep that happens to be long enough.

/** Timers and time as the chaos proxy sees them (milliseconds). */
export interface ChaosClock {
  /** The current time in milliseconds (any origin; only differences matter). */
  now(): number
  /** Calls `callback` once, `ms` milliseconds from now. Returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown
  /** Cancels a timer made by `setTimeout`; a no-op for one that fired or was cleared. */
  clearTimeout(handle: unknown): void
}

/** The process clock: `Date.now()` and unref'd Node timers (a pending chaos timer never keeps a process alive). */
export const realClock: ChaosClock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms)
    timer.unref()
    return timer
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}

/** A clock that only moves when told to: `advance` fires the timers that fall due, in time order. */
export interface ManualClock extends ChaosClock {
  /** Moves time forward by `ms` and runs every timer due by then, earliest first (ties in creation order). */
  advance(ms: number): void
  /** How many timers are waiting to fire. */
  pending(): number
}

interface ManualTimer {
  readonly at: number
  readonly order: number
  readonly callback: () => void
}

/**
 * A clock for tests: time starts at `start` and stands still until `advance` is called.
 *
 * @example
 * ```ts
 * const clock = manualClock()
 * const proxy = await startChaosProxy({ target, seed: 7, faults: { delay: 1 }, clock })
 * const answer = get(proxy.url) // held by the delay fault
 * clock.advance(10_000) // releases it: no sleep in the test
 * ```
 */
export function manualClock(start = 0): ManualClock {
  let now = start
  let created = 0
  const timers = new Set<ManualTimer>()
  const due = (): ManualTimer | undefined => {
    let first: ManualTimer | undefined
    for (const timer of timers) {
      if (timer.at > now) continue
      if (first === undefined || timer.at < first.at || (timer.at === first.at && timer.order < first.order))
        first = timer
    }
    return first
  }
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const timer: ManualTimer = { at: now + Math.max(0, ms), order: created++, callback }
      timers.add(timer)
      return timer
    },
    clearTimeout(handle) {
      timers.delete(handle as ManualTimer)
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative duration, got ${ms}`)
      now += ms
      for (let timer = due(); timer !== undefined; timer = due()) {
        timers.delete(timer)
        timer.callback()
      }
    },
    pending: () => timers.size,
  }
}
