// Options of openUserDbs: a public type in a file of its own so the pool behind it (internal/user-db-pool.ts) can
// read them without importing user-dbs.ts, which builds the pool.
import type { OpenDbOptions } from '@homedb/tables'
import type { Clock } from './clock.js'
import type { DirectoryOption } from './directory.js'
import type { RetryPolicy } from './retry-policy.js'
import type { Transport } from './transport.js'

/** Options of `openUserDbs`. */
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
