// Replays a log without the app's schema (FORMAT.md, "State hash of a log" 1-2): the latest snapshot at or before a
// seq (or the log from seq 0), then every commit up to it, each operation applied by its opcode. Shared by
// logStateHash (a move compares the result's hash on two homes) and readLogState (an operator reads the tables).
import { type Log, LogReadError } from '@homedb/log'
import { TablesConfigError, TablesLogError, TablesReplayError } from '../errors.js'
import { decodePayload } from './codec.js'
import { fromLogError } from './log-errors.js'
import { SchemalessState } from './schemaless-state.js'
import { decodeSnapshot } from './snapshot-codec.js'

/** The state of a log's tables at (`seq`, `chain`). */
export interface SchemalessReplay {
  readonly state: SchemalessState
  readonly seq: number
  readonly chain: string
}

/**
 * Replays `log` up to `upTo` (default its head). Throws `TABLES_CONFIG` for `upTo` outside `[0, head]`,
 * `TABLES_LOG_ERROR` (`logCode: 'LOG_NEED_SNAPSHOT'`) when the log no longer holds what `upTo` needs and
 * `TABLES_CORRUPT_OP` when a payload is not the tables format.
 */
export async function replaySchemaless(log: Log, upTo = log.head.seq): Promise<SchemalessReplay> {
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
  return { state, seq: at.seq, chain: at.chain }
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

/** Decodes one commit payload and applies its operations. */
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
