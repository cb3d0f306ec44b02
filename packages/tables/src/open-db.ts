// openDb: resolves options, opens the log under the db, replays it into the schema's tables and hands out the db.
import { type Durability, type OpenLogOptions, openLog } from '@homedb/log'
import { TablesConfigError, TablesError } from './errors.js'
import { DbCore, fromLogError } from './internal/db-core.js'
import type { Schema, TableDefs } from './schema.js'
import type { Db } from './table-types.js'

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
   * Opens without the writer lock; mutations throw `TABLES_READ_ONLY`. For now the db holds the state at open
   * and does not follow a writer's later commits (that comes with `followDb`).
   */
  readOnly?: boolean
  /** Receives errors thrown by `onCommit` / `onClose` listeners. Default: rethrown in a microtask. */
  onListenerError?: (error: unknown) => void
}

const rethrowLater = (error: unknown): void => {
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
  if (typeof schema !== 'object' || schema === null || typeof schema.tables !== 'object') {
    throw new TablesConfigError('openDb() takes a schema made with schema({...})')
  }
  if (typeof options !== 'object' || options === null) throw new TablesConfigError('options must be an object')
  const { dir, freeze = true, onListenerError = rethrowLater, ...logOptions } = options
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
  if (typeof freeze !== 'boolean') throw new TablesConfigError('freeze must be a boolean', { freeze })
  if (typeof onListenerError !== 'function') throw new TablesConfigError('onListenerError must be a function')

  let log: Awaited<ReturnType<typeof openLog>>
  try {
    log = await openLog(dir, { ...logOptions, durability })
  } catch (error) {
    throw fromLogError(error, dir === undefined ? {} : { dir })
  }
  try {
    const core = new DbCore(schema.tables, log, { freeze, onListenerError })
    await core.replay()
    return core.handle as Db<D>
  } catch (error) {
    await log.close().catch(() => undefined)
    throw error instanceof TablesError ? error : fromLogError(error)
  }
}
