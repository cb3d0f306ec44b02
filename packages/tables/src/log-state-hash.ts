// logStateHash(log): the state hash of a log's tables computed without the app's schema (FORMAT.md, "State hash
// of a log"). A home server stores users' logs but never their schema; a move compares this hash on the source and
// the target to prove both copies rebuild the same tables, not only the same frames.
import { type Log, LogReadError } from '@homedb/log'
import { TablesConfigError, TablesLogError, TablesReplayError } from './errors.js'
import { decodePayload } from './internal/codec.js'
import { fromLogError } from './internal/log-errors.js'
import { SchemalessState } from './internal/schemaless-state.js'
import { decodeSnapshot } from './internal/snapshot-codec.js'
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
  const upTo = options.upTo ?? log.head.seq
  if (!Number.isSafeInteger(upTo) || upTo < 0 || upTo > log.head.seq) {
    throw new TablesConfigError(`upTo must be a seq between 0 and the head (${log.head.seq})`, { upTo })
  }
  const state = new SchemalessState()
  let at = await loadBase(log, state, upTo)
  try {
    for await (const commit of log.read({ from: at.seq })) {
      if (commit.seq > upTo) break
      applyPayload(state, commit.payload, commit.seq)
      at = { seq: commit.seq, chain: commit.chain }
    }
  } catch (error) {
    throw fromLogError(error, { upTo })
  }
  if (at.seq !== upTo) {
    throw new TablesLogError('TABLES_LOG_ERROR', `the log ended at seq ${at.seq} before ${upTo}`, {
      upTo,
      logCode: 'LOG_NEED_SNAPSHOT',
    })
  }
  const kinds = state.kinds()
  return { seq: at.seq, chain: at.chain, hash: digestState(kinds, state.stateOps()), tables: kinds.size }
}

/** Loads the snapshot to start from (if the log needs one); returns the position replay continues after. */
async function loadBase(log: Log, state: SchemalessState, upTo: number): Promise<{ seq: number; chain: string }> {
  const snapshot = await log.latestSnapshot().catch((error: unknown) => {
    throw fromLogError(error, { upTo })
  })
  if (snapshot !== undefined && snapshot.seq <= upTo && snapshot.seq >= log.start.seq) {
    for await (const part of decodeSnapshot(snapshot.chunks(), snapshot.seq)) {
      if ('header' in part) {
        for (const [name, t] of Object.entries(part.header.tables)) state.declare(name, t.kind, snapshot.seq)
      } else for (const op of part.ops) state.apply(op, snapshot.seq)
    }
    return { seq: snapshot.seq, chain: snapshot.chain }
  }
  if (log.start.seq === 0) return { seq: 0, chain: log.start.chain }
  const cause = new LogReadError(`no snapshot at or before seq ${upTo}`, { seq: upTo })
  throw new TablesLogError(
    'TABLES_LOG_ERROR',
    `the log starts at seq ${log.start.seq} and holds no snapshot at or before ${upTo}`,
    { upTo, logCode: 'LOG_NEED_SNAPSHOT' },
    cause,
  )
}

function applyPayload(state: SchemalessState, payload: Uint8Array, seq: number): void {
  let ops: unknown
  try {
    ops = decodePayload(payload)
  } catch (cause) {
    throw new TablesReplayError(`commit ${seq} does not decode`, { seq }, { cause })
  }
  if (!Array.isArray(ops)) throw new TablesReplayError(`commit ${seq} is not an array of operations`, { seq })
  for (const op of ops) state.apply(op, seq)
}
