// What a move reports: its progress while it runs and its result. Public types in a file of their own so the mover
// (internal/mover.ts) fills them in without importing move-user.ts, which runs it.
import type { LogPosition } from './position.js'

/** What a move reports while it runs. */
export interface MoveProgress {
  readonly phase:
    | 'reserving'
    | 'copying'
    | 'verifying'
    | 'freezing'
    | 'catching-up'
    | 'switching'
    | 'activating'
    | 'done'
    | 'aborting'
  readonly copiedBytes: number
  /** The copy's head and the source's, when known. */
  readonly head?: LogPosition | null
  readonly sourceHead?: LogPosition | null
}

/** What `moveUser` did. */
export interface MoveResult {
  /** The user's homeEpoch after the move. */
  readonly epoch: number
  /** How long the source refused writes: from the freeze request until the target served, ms. */
  readonly freezeMs: number
  /** Bytes the target copied (snapshot and frames). */
  readonly copiedBytes: number
  readonly from: string
  readonly to: string
  readonly moveId: string
}
