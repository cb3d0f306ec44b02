// startDirectory: the embedded directory server (`homedb directory --data DIR`): the user → home map in a homedb
// database of its own, served over HTTP with the same route host as the home server. Good for one machine and small
// deployments; larger ones use etcd through the same Directory interface.
import type { FileLayer } from '@homedb/log'
import { type Clock, systemClock } from './clock.js'
import { directoryRoutes } from './directory/directory-routes.js'
import { EmbeddedDirectory } from './directory/embedded-directory.js'
import type { Directory } from './directory.js'
import { ReplicationConfigError } from './errors.js'
import { hostRoutes, type RouteHost } from './internal/route-host.js'
import type { OperatorUiOptions } from './operator-ui-options.js'
import { cryptoRandom, type Random } from './random.js'
import { withActionLog } from './ui/action-log.js'
import { directoryUiRoutes } from './ui/directory-ui.js'
import type { Route } from './wire.js'

const USER_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$'

/** Options of {@link startDirectory}. */
export interface DirectoryServerOptions {
  /** Directory holding the directory's own db (created if missing). */
  readonly dataDir: string
  /** The deployment's admin token: needed to register, compare-and-set, list, watch and read the token key. */
  readonly adminToken?: string
  /**
   * When set, lookups need this token (or the admin token). Without it lookups are open, like DNS MX records: they
   * reveal that a user name exists and where it lives (use opaque user ids where that matters).
   */
  readonly lookupToken?: string
  /** TCP port; 0 picks a free one. Default 0. */
  readonly port?: number
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Longest a watcher's long-poll waits, ms. Default 20 000. */
  readonly maxWaitMs?: number
  /** Log requests with pino (JSON lines on stdout). Default false. */
  readonly logger?: boolean
  readonly fileLayer?: FileLayer
  readonly clock?: Clock
  readonly random?: Random
  /** The operator page at `/ui` (on by default; it needs the admin token). */
  readonly ui?: OperatorUiOptions
}

/** A running directory server. */
export interface DirectoryServer {
  /** `http://host:port`: what homes, clients and movers take as `directory`. */
  readonly url: string
  readonly port: number
  /** The directory itself, in process (no HTTP): a Directory like any other. */
  readonly local: Directory
  /** The HTTP routes (for a simulated network that calls them without sockets). */
  readonly routes: readonly Route[]
  /** Stops listening and closes the db. Idempotent. */
  close(): Promise<void>
}

function checkSecret(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a non-empty string`)
  }
}

/**
 * Starts the embedded directory: opens (or creates) its db under `dataDir` and listens.
 *
 * @example
 * ```ts
 * import { startDirectory, startHomeServer } from '@homedb/replication'
 * const directory = await startDirectory({ dataDir: './data/directory', port: 0, host: '127.0.0.1', adminToken })
 * const home = await startHomeServer({ dataDir: './data/home', adminToken, directory: directory.url })
 * await home.close()
 * await directory.close()
 * ```
 */
export async function startDirectory(options: DirectoryServerOptions): Promise<DirectoryServer> {
  if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'dataDir must be a non-empty string')
  }
  checkSecret('adminToken', options.adminToken)
  checkSecret('lookupToken', options.lookupToken)
  const store = await EmbeddedDirectory.open({
    dir: options.dataDir,
    ...(options.fileLayer === undefined ? {} : { fileLayer: options.fileLayer }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
  })
  const stop = new AbortController()
  const routes = directoryRoutes(store, {
    adminToken: options.adminToken,
    lookupToken: options.lookupToken,
    maxWaitMs: options.maxWaitMs ?? 20_000,
    shutdown: stop.signal,
  })
  if (options.ui?.enabled !== false) {
    const clock = options.clock ?? systemClock
    const random = options.random ?? cryptoRandom
    const uiOptions = withActionLog(options.ui, options.logger)
    const ui = { store, adminToken: options.adminToken, clock, random, shutdown: stop.signal, options: uiOptions }
    routes.push(...directoryUiRoutes(ui))
  }
  let host: RouteHost
  try {
    host = await hostRoutes(routes, { ...options, paramPatterns: { user: USER_PATTERN } })
  } catch (error) {
    await store.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    url: host.url,
    port: host.port,
    local: store,
    routes,
    close() {
      closing ??= (async () => {
        stop.abort()
        await host.close()
        await store.close()
      })()
      return closing
    },
  }
}
