// Every wait the chaos proxy makes (delay, reorder, stall, cut, partition, drain) is a hold on its clock that
// `heal()` can end at once, so a healed proxy has nothing left pending and `close()` never waits on a timer.
import type { ChaosClock } from './chaos-clock.js'

/** How a hold ended: its time ran out, it was released by an event, or the proxy healed (or closed). */
export type HoldEnd = 'elapsed' | 'released' | 'healed'

/** One pending wait. */
export interface Hold {
  /** Resolves once, with how the hold ended. */
  readonly done: Promise<HoldEnd>
  /** Ends the hold now with `'released'` (a no-op once it ended). */
  release(): void
}

/** The set of pending holds of one proxy. */
export class Holds {
  readonly #clock: ChaosClock
  readonly #pending = new Set<(end: HoldEnd) => void>()
  readonly #onIdle: () => void

  /** `onIdle` runs whenever the last pending hold ends. */
  constructor(clock: ChaosClock, onIdle: () => void) {
    this.#clock = clock
    this.#onIdle = onIdle
  }

  /** A hold that ends after `ms` on the clock unless released or healed first. */
  wait(ms: number): Hold {
    let resolve!: (end: HoldEnd) => void
    const done = new Promise<HoldEnd>((r) => {
      resolve = r
    })
    const finish = (end: HoldEnd): void => {
      if (!this.#pending.delete(finish)) return
      this.#clock.clearTimeout(timer)
      resolve(end)
      if (this.#pending.size === 0) this.#onIdle()
    }
    this.#pending.add(finish)
    const timer = this.#clock.setTimeout(() => finish('elapsed'), ms)
    return { done, release: () => finish('released') }
  }

  /** Ends every pending hold with `'healed'`. */
  healAll(): void {
    for (const finish of [...this.#pending]) finish('healed')
  }

  /** How many holds are pending. */
  get size(): number {
    return this.#pending.size
  }
}
