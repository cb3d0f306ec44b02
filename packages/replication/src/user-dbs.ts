// openUserDbs: one app holding one database per user (a Lockbook-style server), each shipped to its user's home.
// Dbs open on first use (restored from the home when the machine has no copy), close when idle once their commits
// reached the home, and stay within a bound of open dbs; what could not be shipped stays safe on disk, is shipped
// in the background, and `close()` delivers what is left within a timeout.
import type { Db, OpenDbOptions, Schema, TableDefs } from '@homedb/tables'
import type { Clock } from './clock.js'
import type { DirectoryOption } from './directory.js'
import { ReplicationConfigError } from './errors.js'
import { UserDbPool } from './internal/user-db-pool.js'
import type { RetryPolicy } from './retry-policy.js'
import type { Transport } from './transport.js'

/** Options of {@link openUserDbs}. */
export interface UserDbsOptions {
  /** Root directory: each user's db lives in `<dir>/<user>`, the pool's markers in `<dir>/.pending`. */
  readonly dir: string
  /** The deployment's directory (every user's home is looked up there). Give this or `home`. */
  readonly directory?: DirectoryOption
  /** One home for every user (no directory). */
  readonly home?: string
  /** The token of a user (called when its db opens). */
  readonly credentials: (user: string) => string | Promise<string>
  /** Most dbs open at once. Default 256 (each holds ~2 file descriptors and its state in memory). */
  readonly maxOpen?: number
  /** A db not used for this long is closed once its commits reached its home, ms. Default 30 000. */
  readonly idleMs?: number
  /** How long `close()` waits for unshipped commits to reach their homes, ms. Default 10 000. */
  readonly closeTimeoutMs?: number
  /** Options for each user's `openDb` (durability, autoCompact, freeze, …). */
  readonly db?: Omit<OpenDbOptions, 'dir' | 'bootstrap' | 'readOnly'>
  /** Shippers' backoff and loop detection. */
  readonly retry?: Partial<RetryPolicy>
  /** Shippers' largest append, bytes. Default 1 MiB. */
  readonly maxBatchBytes?: number
  /** Shared by every shipper (default: one keep-alive HTTP transport for the pool). */
  readonly transport?: Transport
  readonly clock?: Clock
  /** Receives a user's background errors (a shipper that stopped, a redelivery that failed to open). */
  readonly onError?: (user: string, error: unknown) => void
}

/** What {@link UserDbs.status} reports. */
export interface UserDbsStatus {
  /** Dbs open now. */
  readonly open: number
  /** Users closed with commits their home has not acknowledged yet (shipped in the background). */
  readonly pending: readonly string[]
  /** The open users with their shipper's state and lag. */
  readonly users: readonly { readonly user: string; readonly state: string; readonly lagCommits: number }[]
}

/** What {@link UserDbs.close} achieved. */
export interface UserDbsCloseReport {
  /** Users whose every commit reached their home. */
  readonly delivered: readonly string[]
  /** Users that still hold unshipped commits on disk (shipped by the next `openUserDbs` on this dir). */
  readonly undelivered: readonly string[]
}

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
