// The trace of a simulation run: one line per event (network exchanges and their faults, crashes, restarts, disk
// faults, moves, rotations, checks), stamped with virtual time. The same seed gives the same trace byte for byte
// (tests compare them); a failing run prints its last lines, and `pnpm torture --sim --seed S --trace` all of them.

/** Virtual time as `  12.345` seconds, fixed width so traces line up. */
export function formatTime(ms: number): string {
  return (ms / 1000).toFixed(3).padStart(9)
}

/**
 * An append-only list of events.
 *
 * @example
 * ```ts
 * const trace = new SimTrace(() => scheduler.now)
 * trace.add('home-a', 'crash (torn)')
 * console.log(trace.tail(20))
 * ```
 */
export class SimTrace {
  readonly lines: string[] = []

  constructor(private readonly now: () => number) {}

  /** Records that `who` did or suffered `what` now (paths without their run prefix: see boot-view.ts). */
  add(who: string, what: string): void {
    this.lines.push(`${formatTime(this.now())} ${who} ${what.replace(/\/run-\d+\//g, '/')}`)
  }

  /** The last `n` lines (all of them if fewer), one per line. */
  tail(n: number): string {
    return this.lines.slice(-n).join('\n')
  }

  /** Every line. */
  toString(): string {
    return this.lines.join('\n')
  }
}
