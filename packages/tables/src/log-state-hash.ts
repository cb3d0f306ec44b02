// logStateHash(log): the state hash of a log's tables computed without the app's schema (FORMAT.md, "State hash
// of a log"). A home server stores users' logs but never their schema; a move compares this hash on the source and
// the target to prove both copies rebuild the same tables, not only the same frames.
import type { Log } from '@homedb/log'
import { replaySchemaless } from './internal/schemaless-replay.js'
import { digestState } from './internal/state-hash.js'

/** What {@link logStateHash} computed: the hash of the state at (`seq`, `chain`). */
export interface LogStateHash {
  readonly seq: number
  /** The log's chain after commit `seq`. */
  readonly chain: string
  /** 16 lowercase hex digits. */
  readonly hash: string
  /** Tables the log names at `seq` (its snapshot header's and every table an operation wrote). */
  readonly tables: number
}

/** Options of {@link logStateHash}. */
export interface LogStateHashOptions {
  /** The seq whose state is hashed (default: the log's head). Must not be past the head. */
  readonly upTo?: number
}

/**
 * The state hash of `log`'s tables at `upTo` (default its head), from the log alone: the latest snapshot at or
 * before `upTo` (or the log from seq 0), then every commit up to `upTo`, each operation applied by its opcode.
 * It equals `db.stateHash()` of a db at the same seq when every table of the db's schema appears in the log (an
 * operation or the snapshot header) and no value is waiting for an `upgrade`: values are hashed as stored.
 * Throws `TABLES_LOG_ERROR` with `context.logCode` `LOG_NEED_SNAPSHOT` when the log no longer holds what `upTo`
 * needs, `TABLES_CORRUPT_OP` when a payload is not the tables format, `TABLES_CONFIG` for `upTo` past the head.
 *
 * @example
 * ```ts
 * import { openLog } from '@homedb/log'
 *
 * const log = await openLog('./data/core', { readOnly: true }) // a db's log, as a home server holds it
 * const { seq, hash } = await logStateHash(log)
 * await log.close()
 * ```
 */
export async function logStateHash(log: Log, options: LogStateHashOptions = {}): Promise<LogStateHash> {
  const { state, seq, chain } = await replaySchemaless(log, options.upTo ?? log.head.seq)
  const kinds = state.kinds()
  return { seq, chain, hash: digestState(kinds, state.stateOps()), tables: kinds.size }
}
