// ship(db): the writer side. Tails the db's log through logOf (read-only), ships only commits that are durable
// locally, in batches, to the user's home; resumes from the position the home acknowledges; retries with backoff
// (commits never wait on the network); holds unshipped commits with a retention hold so compaction keeps them;
// ships a snapshot after each local compaction, or as the home's new base when the local log starts past the
// home's head. A history that no longer extends the home's stops it, keeping every local frame.
import { type Db, type LogView, logOf, type TableDefs } from '@homedb/tables'
import type { ClientOptions } from './client-options.js'
import { ReplicationConfigError } from './errors.js'
import { clientParts } from './internal/client-parts.js'
import { ShipperCore } from './internal/shipper-core.js'
import { checkUserName } from './internal/user-names.js'
import type { RetryPolicy } from './retry-policy.js'
import type { ShipperNotice, ShipperStatus } from './shipper-status.js'
import { isTokenSource } from './token-source.js'

/** Options of {@link ship}. */
export interface ShipOptions extends ClientOptions {
  /** The home's URL, e.g. `http://127.0.0.1:7100` (or give `directory`). `moved` answers are followed. */
  readonly home?: string
  /** Most frame bytes per append request. Default 1 MiB. */
  readonly maxBatchBytes?: number
  /** Backoff and loop detection (defaults in PROTOCOL.md). */
  readonly retry?: Partial<RetryPolicy>
}

/** A running shipper (see {@link ship}). */
export interface Shipper {
  readonly status: ShipperStatus
  /** Resolves once the home has acknowledged (fsynced) every commit made before the call. */
  flushed(): Promise<void>
  /** Calls `listener` at every state change, acknowledgement and snapshot shipped. */
  onNotice(listener: (notice: ShipperNotice) => void): () => void
  /** Stops shipping and releases the retention hold; local frames stay in the db. */
  close(): Promise<void>
}

/**
 * Starts shipping `db`'s log to `user`'s home; runs until `close()` (or the db closes). Commits never wait on it:
 * they are shipped once durable locally, and queue (held in the local log) while the home is unreachable.
 *
 * @example
 * ```ts
 * const shipper = ship(db, { directory: directory.url, user: 'alice', token }) // or { home: url, … }
 * db.files.insert('a', { size: 1 })
 * await shipper.flushed() // the home has fsynced it
 * console.log(shipper.status.ackedSeq, shipper.status.lagCommits) // -> 1, 0
 * await shipper.close()
 * ```
 */
export function ship<D extends TableDefs>(db: Db<D>, options: ShipOptions): Shipper {
  if (typeof options !== 'object' || options === null) throw config('ship() takes options { home, user, token }')
  checkUserName(options.user)
  if (!isTokenSource(options.token)) throw config('token must be a non-empty string or a function')
  if (db.readOnly) throw config('ship() needs the writer: this db is read-only')
  const parts = clientParts(options)
  const view: LogView = logOf(db)
  const core = new ShipperCore({
    view,
    client: parts.client,
    clock: parts.clock,
    backoff: parts.backoff,
    loops: parts.loops,
    maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024,
    onClosed: () => void parts.close(),
  })
  const offClose = db.onClose(() => void core.close())
  core.start()
  return {
    get status() {
      return core.status()
    },
    flushed: () => core.flushed(),
    onNotice: (listener) => core.onNotice(listener),
    close: async () => {
      offClose()
      await core.close()
    },
  }
}

function config(message: string): ReplicationConfigError {
  return new ReplicationConfigError('REPLICATION_CONFIG', message)
}
