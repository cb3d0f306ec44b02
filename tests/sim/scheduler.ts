// Virtual time for the simulation. Every wait of the code under test goes through a Clock the scheduler hands out
// (one per process incarnation), so nothing happens at a real instant: the scheduler drains the event loop at the
// current virtual instant until it is quiescent (no immediate pending, see event-loop.ts), then moves time to the
// next timer and fires it, one at a time, in (time, creation order). The same seed therefore replays the same
// interleaving. A crashed process's clock is killed: its pending waits never fire and new ones never start, so the
// code of a dead process stops where it was.
import type { Clock } from '@homedb/replication'
import { pendingImmediates, uncountedTurn } from './event-loop.js'

/** Virtual milliseconds since the start of a run. */
export type SimTime = number

/** What `Clock.now()` returns at virtual time 0 (2027-01-15): timestamps look like real ones. */
export const CLOCK_ORIGIN = 1_800_000_000_000

/** A scheduled callback; `cancel()` keeps it from firing. */
export interface SimTimer {
  readonly at: SimTime
  readonly seq: number
  cancel(): void
}

interface Entry extends SimTimer {
  fire: () => void
  cancelled: boolean
}

/** Thrown by the scheduler when the system never becomes quiescent at one instant (a client spinning). */
export class SimLivelockError extends Error {
  override readonly name = 'SimLivelockError'
}

/** A binary heap of timers ordered by (at, seq). */
class TimerHeap {
  private readonly items: Entry[] = []

  get size(): number {
    return this.items.length
  }

  push(entry: Entry): void {
    const items = this.items
    items.push(entry)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  peek(): Entry | undefined {
    return this.items[0]
  }

  pop(): Entry | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && before(items[l]!, items[m]!)) m = l
      if (r < items.length && before(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
    return top
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** Options of {@link SimScheduler}. */
export interface SchedulerOptions {
  /** Most event-loop turns at one virtual instant before the run fails as a livelock. Default 200 000. */
  readonly maxTurnsPerInstant?: number
}

/**
 * The virtual clock and the loop that advances it.
 *
 * @example
 * ```ts
 * const scheduler = new SimScheduler()
 * const clock = scheduler.clock('writer')
 * void clock.sleep(1_000).then(() => console.log(scheduler.now)) // 1000
 * await scheduler.run({ until: 5_000 })
 * ```
 */
export class SimScheduler {
  private time: SimTime = 0
  private seq = 0
  private readonly heap = new TimerHeap()
  private failure: Error | undefined
  private readonly maxTurns: number
  /** Timers fired so far. */
  firings = 0
  /** Event-loop turns the scheduler waited through (its own). */
  turns = 0

  constructor(options: SchedulerOptions = {}) {
    this.maxTurns = options.maxTurnsPerInstant ?? 200_000
  }

  /** Virtual ms since the run started. */
  get now(): SimTime {
    return this.time
  }

  /** The first error reported with {@link fail} (the run stops at the next quiescent point). */
  get failed(): Error | undefined {
    return this.failure
  }

  /** Records a failure found by a task of the harness; the first one wins. */
  fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error))
  }

  /** Calls `fire` at virtual time `at` (now if earlier). */
  at(at: SimTime, fire: () => void): SimTimer {
    const entry: Entry = {
      at: Math.max(this.time, at),
      seq: this.seq++,
      fire,
      cancelled: false,
      cancel() {
        entry.cancelled = true
      },
    }
    this.heap.push(entry)
    return entry
  }

  /** Calls `fire` after `ms` virtual milliseconds. */
  after(ms: number, fire: () => void): SimTimer {
    return this.at(this.time + safeDelay(ms), fire)
  }

  /** Runs `task` as a harness task at `at`: a rejection fails the run. */
  task(at: SimTime, task: () => Promise<void>): SimTimer {
    return this.at(at, () => {
      task().catch((error: unknown) => this.fail(error))
    })
  }

  /**
   * A clock for one process incarnation: `kill()` it when the process dies. `pausedUntil` says until when the process
   * is paused (a stall: its waits that end meanwhile end when it resumes).
   */
  clock(name: string, pausedUntil: () => SimTime = () => 0): ProcessClock {
    return new ProcessClock(this, name, pausedUntil)
  }

  /** Drains the event loop at the current instant: resolves once no immediate is pending. */
  async quiesce(): Promise<void> {
    let calm = 0
    for (let turns = 0; calm < 2; turns++) {
      await uncountedTurn()
      this.turns++
      calm = pendingImmediates() === 0 ? calm + 1 : 0
      if (turns > this.maxTurns) {
        throw new SimLivelockError(
          `the system never became quiescent at t=${this.time} ms (${turns} event-loop turns): something spins`,
        )
      }
    }
  }

  /**
   * Advances virtual time until `until` (then it stays there), `stop()` returns true at a quiescent point, a task
   * failed, or nothing is left to happen. `onQuiet` runs at every quiescent point (continuous checks).
   */
  async run(options: {
    until: SimTime
    stop?: () => boolean
    onQuiet?: () => void
  }): Promise<'until' | 'stopped' | 'idle' | 'failed'> {
    for (;;) {
      await this.quiesce()
      if (this.failure !== undefined) return 'failed'
      options.onQuiet?.()
      if (this.failure !== undefined) return 'failed'
      if (options.stop?.()) return 'stopped'
      const next = this.nextLive()
      if (next === undefined) return 'idle'
      if (next.at > options.until) {
        this.time = options.until
        return 'until'
      }
      this.heap.pop()
      this.time = next.at
      this.firings++
      next.fire()
    }
  }

  private nextLive(): Entry | undefined {
    for (;;) {
      const next = this.heap.peek()
      if (next === undefined || !next.cancelled) return next
      this.heap.pop()
    }
  }
}

function safeDelay(ms: number): number {
  if (!Number.isFinite(ms)) return ms === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : 0
  return Math.max(0, ms)
}

/**
 * The Clock of one process incarnation. Its sleeps are timers of the scheduler; `kill()` cancels them (they never
 * resolve, as in a process that died) and makes later sleeps hang too, unless their signal aborts. While the process
 * is paused (a stall), a sleep that ends ends when the pause does.
 */
export class ProcessClock implements Clock {
  private readonly timers = new Set<SimTimer>()
  private dead = false

  constructor(
    private readonly scheduler: SimScheduler,
    readonly name: string,
    private readonly pausedUntil: () => SimTime,
  ) {}

  /** Whether the process is alive. */
  get alive(): boolean {
    return !this.dead
  }

  now(): number {
    return CLOCK_ORIGIN + this.scheduler.now
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      let timer: SimTimer | undefined
      const done = () => {
        if (timer !== undefined) {
          timer.cancel()
          this.timers.delete(timer)
        }
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const wake = () => {
        const until = this.pausedUntil()
        if (until <= this.scheduler.now) return done()
        if (timer !== undefined) this.timers.delete(timer)
        timer = this.scheduler.at(until, wake)
        this.timers.add(timer)
      }
      signal?.addEventListener('abort', done, { once: true })
      if (this.dead) return
      timer = this.scheduler.after(ms, wake)
      this.timers.add(timer)
    })
  }

  /** The process died: none of its waits will ever end (except by their own abort signal). */
  kill(): void {
    this.dead = true
    for (const timer of this.timers) timer.cancel()
    this.timers.clear()
  }
}
