// Time as the replication code sees it: every wait and timestamp goes through a Clock, so a deterministic
// simulation (issue 18) can run shippers, replicas and homes on virtual time without changing them.

/** A source of time and of waits. */
export interface Clock {
  /** Milliseconds since some fixed origin (only differences and comparisons are used). */
  now(): number
  /**
   * Resolves after `ms` milliseconds, or at once when `signal` aborts (it never rejects). The wait must not keep
   * the process alive on its own (clients stop when everything else has).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * The real clock: `Date.now()` and unref'd timers.
 *
 * @example
 * ```ts
 * ship(db, { home, user, token, clock: systemClock })
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, ms))
      timer.unref?.()
      signal?.addEventListener('abort', done, { once: true })
    })
  },
}
