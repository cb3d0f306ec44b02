// Where a node stands in a user's history, and how a node holding a log answers another node that wants to
// resume from a position: the one comparison every replication request starts with (see DESIGN.md, Replication).
import type { EncodedCommit, Position } from '@homedb/log'
import { BadPositionError } from './errors.js'

/**
 * What {@link relatePosition} reads: a @homedb/log `Log`, or @homedb/tables' `logOf(db)` view of a db's log.
 */
export interface PositionedLog {
  readonly logId: string
  readonly head: Position
  readonly start: Position
  latestSnapshot(): Promise<{ readonly seq: number; readonly chain: string } | undefined>
  readEncoded(options?: { from?: number }): AsyncIterable<EncodedCommit>
}

/** A position in a specific log's history: `(logId, seq, chain)`. Same triple on two nodes = same history. */
export interface LogPosition {
  readonly logId: string
  readonly seq: number
  readonly chain: string
}

/**
 * How a position relates to a log:
 * - `same`: the log's head is exactly there.
 * - `behind`: the position is an earlier point of this log's history: send the commits after `seq`.
 * - `ahead`: the position is past this log's head; the log cannot say whether it extends it.
 * - `diverged`: same log, same seq, different chain: the histories forked; resnapshot, never merge.
 * - `need-snapshot`: the commits after `seq` are no longer kept here: install the snapshot, then tail.
 * - `incompatible`: a different log altogether (different `logId`).
 */
export type PositionRelation = 'same' | 'behind' | 'ahead' | 'diverged' | 'need-snapshot' | 'incompatible'

/** Parses and checks an untrusted position (e.g. from a request); throws {@link BadPositionError}. */
export function parsePosition(value: unknown): LogPosition {
  if (typeof value !== 'object' || value === null) throw new BadPositionError('position must be an object', { value })
  const { logId, seq, chain } = value as Record<string, unknown>
  if (typeof logId !== 'string' || !/^[0-9a-f]{32}$/.test(logId)) {
    throw new BadPositionError('position.logId must be 32 lowercase hex digits', { logId })
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new BadPositionError('position.seq must be a non-negative integer', { seq })
  }
  if (typeof chain !== 'string' || !/^[0-9a-f]{16}$/.test(chain)) {
    throw new BadPositionError('position.chain must be 16 lowercase hex digits', { chain })
  }
  return { logId, seq, chain }
}

/** The position of a log's head. */
export function headPosition(log: PositionedLog): LogPosition {
  return { logId: log.logId, seq: log.head.seq, chain: log.head.chain }
}

/**
 * Compares `position` with `log`'s history. Reads at most one commit.
 *
 * @example
 * ```ts
 * const position = parsePosition(request.position) // untrusted: throws BadPositionError if malformed
 * const relation = await relatePosition(log, position)
 * if (relation === 'behind') for await (const c of log.readEncoded({ from: position.seq })) send(c.frame)
 * console.log(relation) // -> 'behind'
 * ```
 */
export async function relatePosition(log: PositionedLog, position: LogPosition): Promise<PositionRelation> {
  if (position.logId !== log.logId) return 'incompatible'
  const head = log.head
  if (position.seq > head.seq) return 'ahead'
  if (position.seq === head.seq) return position.chain === head.chain ? 'same' : 'diverged'
  const start = log.start
  if (position.seq === start.seq) return position.chain === start.chain ? 'behind' : 'diverged'
  if (position.seq < start.seq) {
    const snapshot = await log.latestSnapshot()
    if (snapshot && snapshot.seq === position.seq && snapshot.chain !== position.chain) return 'diverged'
    return 'need-snapshot'
  }
  // start < seq < head: the chain after commit `seq` is in the frame of that commit.
  for await (const commit of log.readEncoded({ from: position.seq - 1 })) {
    return commit.chain === position.chain ? 'behind' : 'diverged'
  }
  return 'need-snapshot'
}
