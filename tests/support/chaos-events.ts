// What the chaos proxy reports while it runs: one event per decision, hold, partition edge and finished exchange,
// so tests wait for the event they need instead of sleeping, and a failing run can print what was injected.
import type { Fault, FaultKind } from './chaos-schedule.js'

/** How one request through the proxy ended, as far as the client could see. */
export type ExchangeOutcome =
  /** The client got the whole answer (possibly late, possibly one of two). */
  | 'answered'
  /** The client's connection was reset before anything was forwarded. */
  | 'refused'
  /** The server answered; the client's connection was reset instead. */
  | 'dropped'
  /** The client got part of the body, then the connection closed. */
  | 'truncated'
  /** Both connections were reset mid-response. */
  | 'cut'
  /** A partition swallowed it (refused, or answered upstream and lost). */
  | 'partitioned'
  /** The client went away first. */
  | 'client-gone'
  /** The server could not be reached or broke the connection; the client's connection was reset. */
  | 'upstream-error'

/** Why the proxy stopped injecting faults. */
export type CleanReason = 'budget' | 'until' | 'stop' | 'heal' | 'close'

/** One thing the proxy did. `index` is the request's arrival order (see `RequestHead`). */
export type ChaosEvent =
  | {
      readonly type: 'decision'
      readonly index: number
      readonly method: string
      readonly path: string
      readonly fault: Fault | null
    }
  | { readonly type: 'hold'; readonly index: number; readonly kind: FaultKind; readonly ms: number }
  | { readonly type: 'backpressure'; readonly index: number; readonly buffered: number }
  | { readonly type: 'partition-start'; readonly index: number; readonly ms: number; readonly oneWay: boolean }
  | { readonly type: 'partition-end' }
  | { readonly type: 'connection-refused'; readonly connection: number }
  | { readonly type: 'done'; readonly index: number; readonly outcome: ExchangeOutcome; readonly upstream: number }
  | { readonly type: 'clean'; readonly reason: CleanReason }

/** The events of one proxy: the last 10 000 kept for `waitFor`, every one passed to the current listeners. */
export class EventLog {
  static readonly KEEP = 10_000
  #log: ChaosEvent[] = []
  readonly #listeners = new Set<(event: ChaosEvent) => void>()
  readonly #onListenerError: (error: unknown) => void

  /** `onListenerError` receives what a listener throws (the proxy goes on). */
  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError
  }

  /** Records `event` and passes it to every listener. */
  emit(event: ChaosEvent): void {
    this.#log.push(event)
    if (this.#log.length >= 2 * EventLog.KEEP) this.#log = this.#log.slice(-EventLog.KEEP)
    for (const listener of [...this.#listeners]) {
      try {
        listener(event)
      } catch (error) {
        this.#onListenerError(error)
      }
    }
  }

  /** Calls `listener` with every event from now on; returns the function that unsubscribes it. */
  subscribe(listener: (event: ChaosEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The first kept or future event that `match` accepts. */
  waitFor(match: (event: ChaosEvent) => boolean): Promise<ChaosEvent> {
    const found = this.#log.find(match)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve) => {
      const off = this.subscribe((event) => {
        if (!match(event)) return
        off()
        resolve(event)
      })
    })
  }
}
