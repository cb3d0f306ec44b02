// What simulation runs did, counted: faults injected by kind, commits, moves and how they ended, rotations, checks
// and virtual time. A campaign adds its runs' stats up for RELIABILITY.md.
import type { NetworkFaultKind } from './network.js'

/** Every kind of fault a run injects. */
export const FAULT_KINDS = [
  'drop-request',
  'drop-response',
  'duplicate',
  'spike',
  'corrupt',
  'cut',
  'reset',
  'partition',
  'one-way-partition',
  'pause',
  'home-crash',
  'home-restart',
  'directory-crash',
  'writer-crash',
  'writer-takeover',
  'replica-crash',
  'mover-crash',
  'disk-fault',
  'token-rotation',
] as const

/** One of {@link FAULT_KINDS}. */
export type FaultKind = (typeof FAULT_KINDS)[number] | NetworkFaultKind

/** Counters of one run or of a whole campaign. */
export interface SimStats {
  runs: number
  simulatedMs: number
  faults: Record<FaultKind, number>
  /** Power cuts among the crashes that happened in the middle of a file-system call. */
  crashesMidCall: number
  messages: number
  commits: number
  /** Commits whose durability promise resolved on the writer. */
  commitsAcked: number
  /** Appends a home acknowledged with 200. */
  appendsAcked: number
  movesStarted: number
  movesDone: number
  movesAborted: number
  movesUnknown: number
  /** Movers killed mid-move: the homes' leases and reconciliation settle the user. */
  movesAbandoned: number
  /** Users a frozen source took back when its lease ran out (homeEpoch + 1). */
  leaseTakeBacks: number
  /** Invariant checks made (continuous and final). */
  checks: number
  /** The longest virtual time a run needed after the heal to converge, ms. */
  maxHealMs: number
  /** Timers the scheduler fired. */
  firings: number
}

/** All counters at zero. */
export function emptySimStats(): SimStats {
  return {
    runs: 0,
    simulatedMs: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
    crashesMidCall: 0,
    messages: 0,
    commits: 0,
    commitsAcked: 0,
    appendsAcked: 0,
    movesStarted: 0,
    movesDone: 0,
    movesAborted: 0,
    movesUnknown: 0,
    movesAbandoned: 0,
    leaseTakeBacks: 0,
    checks: 0,
    maxHealMs: 0,
    firings: 0,
  }
}

/** Adds `from` into `into` (maxima are kept as maxima). */
export function addSimStats(into: SimStats, from: SimStats): void {
  for (const [key, value] of Object.entries(from) as [keyof SimStats, SimStats[keyof SimStats]][]) {
    if (key === 'faults') {
      for (const [kind, n] of Object.entries(value as Record<FaultKind, number>)) {
        into.faults[kind as FaultKind] = (into.faults[kind as FaultKind] ?? 0) + n
      }
    } else if (key === 'maxHealMs') into.maxHealMs = Math.max(into.maxHealMs, value as number)
    else (into[key] as number) += value as number
  }
}

/** Faults injected in all, every kind. */
export function totalFaults(stats: SimStats): number {
  return Object.values(stats.faults).reduce((a, b) => a + b, 0)
}
