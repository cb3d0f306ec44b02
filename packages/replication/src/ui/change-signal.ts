// "Something changed": the operator page's feeds wait on this between two events, so an append, a slot
// confirmation, a move's step or a token rotation shows up at once instead of at the next second.
import type { Clock } from '../clock.js'

/** Wakes every waiter when notified. */
export class ChangeSignal {
  private waiters = new Set<() => void>()

  /** Wakes everyone waiting now. */
  notify(): void {
    const waiting = this.waiters
    if (waiting.size === 0) return
    this.waiters = new Set()
    for (const wake of waiting) wake()
  }

  /** Resolves on the next notice, after `ms`, or when `signal` fires, whichever comes first. */
  wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const stop = new AbortController()
      const done = () => {
        this.waiters.delete(done)
        signal.removeEventListener('abort', done)
        stop.abort()
        resolve()
      }
      this.waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
      if (signal.aborted) return done()
      void clock.sleep(ms, stop.signal).then(done)
    })
  }
}
