// verifyDb: replays a db's log through the tables layer, read-only, and says whether every commit applies, and if
// not, which one first fails and why. The log-level check (`verifyLog`) proves the frames are intact; this proves
// the operations in them apply to the schema's tables, so a db that would not open is found before it is needed.
import { type FileLayer, openLog } from '@homedb/log'
import { TablesConfigError, TablesError } from './errors.js'
import { DbCore } from './internal/db-core.js'
import { fromLogError } from './internal/log-errors.js'
import { refuseUnknownOptions } from './internal/option-names.js'
import { assertSchema } from './open-db.js'
import type { Schema, TableDefs } from './schema.js'

/** Options of {@link verifyDb}. */
export interface VerifyDbOptions {
  /** Tables the log holds that the schema no longer declares, to ignore (as `openDb`'s `dropTables` would drop). */
  dropTables?: readonly string[]
  /** File operations go through this layer (tests). Default: node:fs. */
  fileLayer?: FileLayer
}

/** The first commit that does not apply (or the reason the log cannot be replayed at all). */
export interface VerifyDbProblem {
  /** Seq of the commit that failed (for a problem before any commit: the seq replay had reached). */
  readonly seq: number
  /** The table the failing operation is on, if the problem is in one operation. */
  readonly table: string | undefined
  /** The failing operation's name (`remove`, `push`, `set` …), if known. */
  readonly op: string | undefined
  /** What is wrong, as `openDb` would report it. */
  readonly message: string
  /** The error code `openDb` would reject with (`TABLES_CORRUPT_OP`, `TABLES_KIND_MISMATCH`, `TABLES_LOG_ERROR` …). */
  readonly code: string
}

/** What {@link verifyDb} found. */
export interface VerifyDbReport {
  /** True if every commit applies: `openDb` with this schema would load the db. */
  readonly ok: boolean
  /** The last seq whose state replays cleanly: open it with `openDb(schema, { dir, readOnly: true, upTo: seq })`. */
  readonly seq: number
  /** Set when `ok` is false. */
  readonly problem?: VerifyDbProblem
}

/**
 * Replays the db in `dir` through the tables layer with `schema`, read-only: it never takes the writer's lock and
 * never writes (a writer may be running beside it). Reports whether every commit applies and, if not, the first
 * that does not (seq, table, operation, message) and the last seq whose state is intact.
 *
 * @example
 * ```ts
 * const report = await verifyDb(Core, './data/core')
 * if (!report.ok) {
 *   console.error(`commit ${report.problem?.seq} does not apply: ${report.problem?.message}`)
 *   const before = await openDb(Core, { dir: './data/core', readOnly: true, upTo: report.seq })
 * }
 * ```
 */
export async function verifyDb<const D extends TableDefs>(
  schema: Schema<D>,
  dir: string,
  options: VerifyDbOptions = {},
): Promise<VerifyDbReport> {
  assertSchema(schema, 'verifyDb')
  if (typeof dir !== 'string' || dir === '') throw new TablesConfigError('dir must be a non-empty string', { dir })
  refuseUnknownOptions(options, ['dropTables', 'fileLayer'], 'verifyDb')
  let log: Awaited<ReturnType<typeof openLog>>
  try {
    const layer = options.fileLayer === undefined ? {} : { fileLayer: options.fileLayer }
    log = await openLog(dir, { readOnly: true, mustExist: true, ...layer })
  } catch (error) {
    const failure = fromLogError(error, { dir })
    return { ok: false, seq: 0, problem: problemOf(failure, 0) }
  }
  const core = new DbCore(schema.tables, log, {
    freeze: false,
    readOnly: true,
    autoCompact: false,
    onListenerError: () => undefined,
    onError: () => undefined,
  })
  try {
    await core.load(log)
    await core.settle(options.dropTables ?? [])
    return { ok: true, seq: core.seq }
  } catch (error) {
    const failure = error instanceof TablesError ? error : fromLogError(error)
    return { ok: false, seq: core.seq, problem: problemOf(failure, core.seq + 1) }
  } finally {
    await log.close().catch(() => undefined)
  }
}

function problemOf(error: TablesError, reached: number): VerifyDbProblem {
  const { seq, table, op } = error.context
  return {
    seq: typeof seq === 'number' ? seq : reached,
    table: typeof table === 'string' ? table : undefined,
    op: typeof op === 'string' ? op : undefined,
    message: error.message,
    code: error.code,
  }
}
