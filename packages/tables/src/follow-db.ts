// followDb: a read-only db fed with commits from any source (a read-only local log, a replica's network feed),
// emitting the same commit events as the writer, and a documented reset when it reloads from a snapshot.
import { openLog } from '@homedb/log'
import type { CommitSource } from './commit-source.js'
import type { Db } from './db-type.js'
import { TablesConfigError, TablesError } from './errors.js'
import { DbCore } from './internal/db-core.js'
import { fromLogError } from './internal/log-errors.js'
import { refuseUnknownOptions } from './internal/option-names.js'
import { assertSchema, resolveCoreSettings } from './open-db.js'
import type { Schema, TableDefs } from './schema.js'

/** Options of {@link followDb}. */
export interface FollowDbOptions {
  /** Deep-freeze values as they are loaded (default `true`). */
  freeze?: boolean
  /** Receives errors thrown by `onCommit` / `onClose` listeners. Default: rethrown in a microtask. */
  onListenerError?: (error: unknown) => void
  /** Receives the error that stopped following (an unknown table, a gap, a source failure). Default: rethrown in a microtask. */
  onError?: (error: unknown) => void
  /** Tables the source holds that this schema does not declare and that the follower should ignore. */
  dropTables?: readonly string[]
}

/** Every option `followDb` accepts (the compiler keeps this in step with {@link FollowDbOptions}). */
const FOLLOW_DB_OPTIONS = Object.keys({
  freeze: true,
  onListenerError: true,
  onError: true,
  dropTables: true,
} satisfies Record<keyof FollowDbOptions, true>)

/**
 * Opens a read-only db that follows `source`: it loads the source's latest snapshot and commits, then applies new
 * commits as the source yields them, emitting `onCommit` events with the same changes the writer saw. Mutations
 * throw `TABLES_READ_ONLY`. When the source has released commits the follower still needs (the writer compacted),
 * it reloads from the latest snapshot in one step and emits `{ seq, changes: {}, reset: true }`: read the state
 * again. `close()` stops following; it does not close `source`.
 *
 * A `@homedb/log` `Log` is a source (open it with `readOnly: true` beside a writer); replication provides sources
 * that read from a home server.
 *
 * @example
 * ```ts
 * import { openLog } from '@homedb/log'
 *
 * const log = await openLog('./data/core', { readOnly: true })
 * const follower = await followDb(Core, log)
 * follower.onCommit(({ seq }) => console.log('writer committed', seq))
 * ```
 */
export async function followDb<const D extends TableDefs>(
  schema: Schema<D>,
  source: CommitSource,
  options: FollowDbOptions = {},
): Promise<Db<D>> {
  assertSchema(schema, 'followDb')
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof source.latestSnapshot !== 'function' ||
    typeof source.read !== 'function' ||
    typeof source.tail !== 'function'
  ) {
    throw new TablesConfigError('followDb() takes a source with latestSnapshot(), read() and tail() (a Log is one)')
  }
  if (typeof options !== 'object' || options === null) throw new TablesConfigError('options must be an object')
  refuseUnknownOptions(options, FOLLOW_DB_OPTIONS, 'followDb')
  const resolved = resolveCoreSettings({ ...options, autoCompact: false })
  // The follower's own log is never written: it only gives the core a durable-at-once sync() and close().
  const own = await openLog(undefined, { durability: 'memory' })
  const core = new DbCore(schema.tables, own, { ...resolved.settings, readOnly: true })
  try {
    await core.load(source)
    await core.settle(resolved.dropTables)
  } catch (error) {
    await own.close()
    throw error instanceof TablesError ? error : fromLogError(error)
  }
  core.follow(source)
  return core.db as Db<D>
}
