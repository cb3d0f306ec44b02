// openUserDbs: one app holding one database per user (a Lockbook-style server), each shipped to its user's home.
// Dbs open on first use (restored from the home when the machine has no copy), close when idle once their commits
// reached the home, and stay within a bound of open dbs; what could not be shipped stays safe on disk, is shipped
// in the background, and `close()` delivers what is left within a timeout.
import type { Db, Schema, TableDefs } from '@homedb/tables'
import { ReplicationConfigError } from './errors.js'
import { UserDbPool } from './internal/user-db-pool.js'
import type { UserDbsOptions } from './user-dbs-options.js'
import type { UserDbsCloseReport, UserDbsStatus } from './user-dbs-status.js'

/** Many users' dbs in one app. */
export interface UserDbs<D extends TableDefs> {
  /**
   * The user's db, opened on first use. Use it for the work at hand and call `get` again later: a db can be closed
   * once idle for `idleMs`, or as the least recently used when more than `maxOpen` are open (`use` pins it).
   */
  get(user: string): Promise<Db<D>>
  /** Runs `fn` with the user's db, which stays open until `fn` settles. */
  use<T>(user: string, fn: (db: Db<D>) => T | Promise<T>): Promise<T>
  status(): UserDbsStatus
  /** Stops opening dbs, delivers what is unshipped (bounded by `closeTimeoutMs`), closes everything. */
  close(): Promise<UserDbsCloseReport>
}

/**
 * Opens a pool of per-user dbs of `schema` under `dir`, each shipped to its user's home.
 *
 * @example
 * ```ts
 * const users = openUserDbs(Core, { dir: './data/users', directory: directoryUrl, credentials: (user) => tokens[user]! })
 * await users.use('alice', (db) => db.files.insert('a.txt', { size: 1 }))
 * await users.close() // -> { delivered: ['alice'], undelivered: [] }
 * ```
 */
export function openUserDbs<const D extends TableDefs>(schema: Schema<D>, options: UserDbsOptions): UserDbs<D> {
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string' || options.dir === '') {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'openUserDbs needs { dir, directory | home, credentials }')
  }
  if (typeof options.credentials !== 'function') {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'credentials must be a function (user) => token')
  }
  for (const name of ['maxOpen', 'idleMs', 'closeTimeoutMs'] as const) {
    const v = options[name]
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
      throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a positive integer`, { [name]: v })
    }
  }
  const pool = new UserDbPool(schema, options)
  pool.start()
  return {
    get: (user) => pool.get(user),
    use: (user, fn) => pool.use(user, fn),
    status: () => pool.status(),
    close: () => pool.close(),
  }
}
