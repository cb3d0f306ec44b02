// startDirectory: the embedded directory server (`homedb directory --data DIR`): the user → home map in a homedb
// database of its own, served over HTTP with the same route host as the home server. Good for one machine and small
// deployments; larger ones use etcd through the same Directory interface.

import type { Directory } from './directory.js'
import { DirectoryService, type DirectoryServiceOptions } from './directory-service.js'
import { hostRoutes, type RouteHost } from './internal/route-host.js'
import { withActionLog } from './ui/action-log.js'
import type { Route } from './wire.js'

const USER_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$'

/** Options of {@link startDirectory}. */
export interface DirectoryServerOptions extends DirectoryServiceOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  readonly port?: number
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Log requests with pino (JSON lines on stdout). Default false. */
  readonly logger?: boolean
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
  const service = await DirectoryService.open({ ...options, ui: withActionLog(options.ui, options.logger) })
  let host: RouteHost
  try {
    host = await hostRoutes(service.routes, { ...options, paramPatterns: { user: USER_PATTERN } })
  } catch (error) {
    await service.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    url: host.url,
    port: host.port,
    local: service.local,
    routes: service.routes,
    close() {
      closing ??= (async () => {
        await service.close()
        await host.close()
      })()
      return closing
    },
  }
}
