// openDb: resolves options (refusing unknown ones), opens the log under the db, replays it into the schema's tables
// (up to a given seq for a point-in-time open), restores it from a bootstrap source when it is missing or damaged,
// and hands out the db.
import { type Durability, nodeFileLayer, type OpenLogOptions, openLog } from '@homedb/log'
import { assertNotRestoring, type BootstrapSource, openWithBootstrap } from './bootstrap.js'
import type { Db } from './db-type.js'
import { TablesConfigError, TablesError } from './errors.js'
import { type CoreSettings, DbCore } from './internal/db-core.js'
import { dirProblem } from './internal/dir-problem.js'
import { fromLogError } from './internal/log-errors.js'
import { refuseUnknownOptions } from './internal/option-names.js'
import { sourceUpTo } from './internal/point-in-time.js'
import type { Schema, TableDefs } from './schema.js'

/**
 * Options of {@link openDb}. Besides `dir`, `freeze` and `onListenerError`, every option of `@homedb/log`'s
 * `openLog` is passed through (`segmentBytes`, `maxPayloadBytes`, `fileLayer`, `readOnly`, `create`, …).
 */
export interface OpenDbOptions extends OpenLogOptions {
  /** Directory of the log. Without it the db lives in memory only (`durability` must then be `'memory'`). */
  dir?: string
  /**
   * `'fsync'` (the default with a `dir`): a commit is durable when its promise (or `sync()`) resolves, even across
   * power loss. `'os'`: handed to the OS (survives a process crash, not power loss). `'memory'` (the default
   * without a `dir`): no files.
   */
  durability?: Durability
  /**
   * Deep-freeze every stored value (default `true`), so in-place mutation of a stored value throws in strict
   * mode. `false` skips the freezing (validation still runs); the caller then promises not to mutate values
   * after inserting them.
   */
  freeze?: boolean
  /**
   * Opens beside a running writer (another process), without the lock: mutations throw `TABLES_READ_ONLY`. The
   * db follows the writer's commits (the log looks for new ones when a watch on its directory reports a change, and at the latest
   * every `followIntervalMs`, default 25 ms) and emits
   * their events; when the writer compacts away commits it still needed, it reloads from the snapshot and emits a
   * reset event (`{ seq, changes: {}, reset: true }`).
   */
  readOnly?: boolean
  /** Receives errors thrown by `onCommit` / `onClose` listeners. Default: rethrown in a microtask. */
  onListenerError?: (error: unknown) => void
  /**
   * Receives errors of background work: a failed automatic compaction, or a follower that had to stop.
   * Default: rethrown in a microtask.
   */
  onError?: (error: unknown) => void
  /**
   * When to compact on its own: once the log written since the last snapshot exceeds `ratio` × the snapshot's size
   * (but at least `minBytes`) and a commit since the snapshot replaced or removed data (a log that only grew is what
   * its snapshot would be: compacting it frees nothing), a compaction starts in the background. Default
   * `{ ratio: 4, minBytes: 4 MiB }`; `false` turns it off (call `db.compact()` yourself).
   */
  autoCompact?: false | { ratio?: number; minBytes?: number }
  /**
   * Tables the log holds but the schema no longer declares, to drop for good. Without it, opening a log with
   * undeclared tables is refused (`TABLES_UNKNOWN_TABLE`) and nothing is changed. With it, a commit records the
   * drop, so the data is gone for every later open and every follower.
   */
  dropTables?: readonly string[]
  /**
   * Where to restore the log from when `dir` holds none (missing, empty, or an interrupted restore) or a log that
   * is refused as damaged (its files are moved aside, renamed in place, never deleted). A healthy local log opens
   * without asking the source anything, so a writer can start while the source is down. See `restoreLog`.
   */
  bootstrap?: BootstrapSource
  /**
   * Opens the state as of commit `upTo` (a point-in-time read, for audits, debugging and recovery): the latest
   * snapshot at or before it, then the commits up to it; the db does not follow later commits. Needs `readOnly:
   * true`. Refused with `TABLES_CONFIG` past the log's last commit, or before the oldest state the log still holds
   * (compaction released the commits before its snapshot).
   */
  upTo?: number
}

/** Every option `openDb` accepts (the compiler keeps this in step with {@link OpenDbOptions}). */
const OPEN_DB_OPTIONS = [
  ...Object.keys({
    dir: true,
    durability: true,
    freeze: true,
    readOnly: true,
    onListenerError: true,
    onError: true,
    autoCompact: true,
    dropTables: true,
    upTo: true,
    bootstrap: true,
    segmentBytes: true,
    preallocate: true,
    inlineWrites: true,
    keepRecentBytes: true,
    maxPayloadBytes: true,
    followIntervalMs: true,
    fileLayer: true,
    create: true,
    mustExist: true,
  } satisfies Record<keyof OpenDbOptions, true>),
]

const DEFAULT_AUTO_COMPACT = { ratio: 4, minBytes: 4 * 1024 * 1024 }

/** Checks the options shared by openDb and followDb; returns the core settings. */
export function resolveCoreSettings(options: {
  freeze?: unknown
  onListenerError?: unknown
  onError?: unknown
  autoCompact?: unknown
  dropTables?: unknown
}): { settings: Omit<CoreSettings, 'readOnly'>; dropTables: readonly string[] } {
  const {
    freeze = true,
    onListenerError = rethrowLater,
    onError = rethrowLater,
    autoCompact,
    dropTables = [],
  } = options
  if (typeof freeze !== 'boolean') throw new TablesConfigError('freeze must be a boolean', { freeze })
  if (typeof onListenerError !== 'function') throw new TablesConfigError('onListenerError must be a function')
  if (typeof onError !== 'function') throw new TablesConfigError('onError must be a function')
  if (!Array.isArray(dropTables) || !dropTables.every((n) => typeof n === 'string')) {
    throw new TablesConfigError('dropTables must be an array of table names', { dropTables })
  }
  let policy: CoreSettings['autoCompact'] = DEFAULT_AUTO_COMPACT
  if (autoCompact === false) policy = false
  else if (autoCompact !== undefined) {
    if (typeof autoCompact !== 'object' || autoCompact === null) {
      throw new TablesConfigError('autoCompact must be false or { ratio, minBytes }', { autoCompact })
    }
    const { ratio = DEFAULT_AUTO_COMPACT.ratio, minBytes = DEFAULT_AUTO_COMPACT.minBytes } = autoCompact as {
      ratio?: unknown
      minBytes?: unknown
    }
    if (typeof ratio !== 'number' || !(ratio >= 1)) {
      throw new TablesConfigError('autoCompact.ratio must be a number ≥ 1', { ratio })
    }
    if (typeof minBytes !== 'number' || !(minBytes >= 0)) {
      throw new TablesConfigError('autoCompact.minBytes must be a number ≥ 0', { minBytes })
    }
    policy = { ratio, minBytes }
  }
  return {
    settings: {
      freeze: freeze as boolean,
      onListenerError: onListenerError as (error: unknown) => void,
      onError: onError as (error: unknown) => void,
      autoCompact: policy,
    },
    dropTables: dropTables as readonly string[],
  }
}

/** Refuses an `upTo` that is not a seq, or one given without `readOnly: true`. */
function checkUpTo(upTo: unknown, readOnly: unknown): void {
  if (typeof upTo !== 'number' || !Number.isSafeInteger(upTo) || upTo < 0) {
    throw new TablesConfigError('upTo must be a seq: an integer ≥ 0', { upTo })
  }
  if (readOnly !== true) {
    throw new TablesConfigError('upTo opens the past state of a log read-only: pass readOnly: true with it', { upTo })
  }
}

/** Refuses anything but a schema made with `schema({...})`, naming the function that was called. */
export function assertSchema(schema: unknown, fn: 'openDb' | 'followDb' | 'verifyDb'): void {
  if (typeof schema !== 'object' || schema === null || typeof (schema as Schema<TableDefs>).tables !== 'object') {
    throw new TablesConfigError(`${fn}() takes a schema made with schema({...})`)
  }
}

export const rethrowLater = (error: unknown): void => {
  queueMicrotask(() => {
    throw error
  })
}

/**
 * Opens (or creates) a db: opens its log, replays it into the schema's tables, and returns the db with each table
 * as a property. Rejects with a TablesError: `TABLES_CONFIG` for bad options, `TABLES_UNKNOWN_TABLE` /
 * `TABLES_KIND_MISMATCH` if the log does not fit the schema (the files are left untouched), `TABLES_LOG_ERROR`
 * if the log cannot be opened (locked by another writer, corrupt …).
 *
 * @example
 * ```ts
 * const Core = schema({ account: single<{ name: string }>(), metadata: lookupTable<string, { size: number }>() })
 * const db = await openDb(Core, { dir: './data/core' }) // durable ('fsync') by default
 * db.metadata.insert('a', { size: 1 })
 * await db.sync()
 * await db.close()
 * ```
 */
export async function openDb<const D extends TableDefs>(
  schema: Schema<D>,
  options: OpenDbOptions = {},
): Promise<Db<D>> {
  assertSchema(schema, 'openDb')
  if (typeof options !== 'object' || options === null) throw new TablesConfigError('options must be an object')
  refuseUnknownOptions(options, OPEN_DB_OPTIONS, 'openDb')
  const { dir, freeze, onListenerError, onError, autoCompact, dropTables, upTo, bootstrap, ...logOptions } = options
  if (bootstrap !== undefined) {
    const rest: OpenDbOptions = { ...options }
    delete rest.bootstrap
    return openWithBootstrap(dir, options.fileLayer, bootstrap, () => openDb(schema, rest))
  }
  const resolved = resolveCoreSettings({ freeze, onListenerError, onError, autoCompact, dropTables })
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
    throw new TablesConfigError('dir must be a non-empty string', { dir })
  }
  const durability = options.durability ?? (dir === undefined ? 'memory' : 'fsync')
  if (durability !== 'fsync' && durability !== 'os' && durability !== 'memory') {
    throw new TablesConfigError(`durability must be 'fsync', 'os' or 'memory', got ${JSON.stringify(durability)}`, {
      durability,
    })
  }
  if (dir === undefined && durability !== 'memory') {
    throw new TablesConfigError(`durability '${durability}' needs a dir (without one, use 'memory')`, { durability })
  }
  if (upTo !== undefined) checkUpTo(upTo, options.readOnly)

  let log: Awaited<ReturnType<typeof openLog>>
  try {
    if (dir !== undefined) await assertNotRestoring(options.fileLayer ?? nodeFileLayer, dir)
    log = await openLog(dir, { ...logOptions, durability })
  } catch (error) {
    if (dir !== undefined && options.fileLayer === undefined) {
      const problem = await dirProblem(dir)
      if (problem !== undefined) throw new TablesConfigError(problem, { dir }, { cause: error })
    }
    throw fromLogError(error, dir === undefined ? {} : { dir })
  }
  try {
    const core = new DbCore(schema.tables, log, resolved.settings)
    await core.load(upTo === undefined ? log : await sourceUpTo(log, upTo))
    await core.settle(resolved.dropTables)
    if (log.readOnly && upTo === undefined) core.follow(log)
    return core.db as Db<D>
  } catch (error) {
    await log.close().catch(() => undefined)
    throw error instanceof TablesError ? error : fromLogError(error)
  }
}
