// Where a move's copy job stands and how it relates to a position the mover waits for: the vocabulary the job
// (move-copy.ts), the handlers that report it, the mover and its admin client share, in a file that imports none
// of them.
import type { LogPosition } from '../position.js'

/** Where a copy job stands (the mover polls it; `homedb status` shows it). */
export interface CopyProgress {
  readonly moveId: string
  readonly phase: 'starting' | 'copying' | 'live' | 'failed' | 'stopped'
  /** The copy's durable head here (null: nothing copied, the source has no log yet). */
  readonly head: LogPosition | null
  /** The source's durable head as last seen. */
  readonly sourceHead: LogPosition | null
  /** Frame and snapshot bytes received so far. */
  readonly copiedBytes: number
  /** The source holds no log for the user (nothing to copy). */
  readonly sourceEmpty: boolean
  readonly error?: string
}

/** How the copy relates to a position the mover waits for. */
export type CopyVerdict = 'reached' | 'behind' | 'diverged' | 'failed'
