// startHomeServer: the home's HTTP server. The generic route host (internal/route-host.ts) serves the protocol
// core's route table over HTTP or HTTPS (body, header and URL limits, timeouts for slow writers and readers, pino
// logging, graceful close); everything the protocol decides stays in HomeService. User names in paths are checked
// by the handlers (`bad-user-name`), the same whether a request comes over HTTP or a simulated network.
import { HomeService } from './home-service.js'
import type { HomeServiceOptions } from './home-service-options.js'
import type { HttpServerOptions } from './http-server-options.js'
import { hostRoutes, type RouteHost } from './internal/route-host.js'
import { withActionLog } from './ui/action-log.js'

/** Options of {@link startHomeServer}: the HomeService options plus where and how to listen. */
export interface HomeServerOptions extends HomeServiceOptions, HttpServerOptions {}

/** A running home server. */
export interface HomeServer {
  /** `http://host:port` (`https://` with `tls`) */
  readonly url: string
  readonly port: number
  /** The protocol core behind it. */
  readonly service: HomeService
  /** Adds a user (see {@link HomeService.addUser}); resolves with its token. */
  addUser(name: string, options?: { token?: string }): Promise<string>
  /** Gives a user a new token and returns it (see {@link HomeService.rotateToken}). */
  rotateToken(name: string, options?: { token?: string }): Promise<string>
  /** Stops accepting requests, finishes in-flight appends, closes every log. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a home server: opens the data dir and listens.
 *
 * @example
 * ```ts
 * import { startHomeServer } from '@homedb/replication'
 * const server = await startHomeServer({ dataDir: './data/home', port: 0, host: '127.0.0.1', adminToken })
 * const token = await server.addUser('alice')
 * console.log(server.url)
 * await server.close()
 * ```
 */
export async function startHomeServer(options: HomeServerOptions): Promise<HomeServer> {
  const service = await HomeService.open({ ...options, ui: withActionLog(options.ui, options.logger) })
  let host: RouteHost
  try {
    host = await hostRoutes(service.routes, options)
  } catch (error) {
    await service.close()
    throw error
  }
  service.listening(host.url)
  let closing: Promise<void> | undefined
  return {
    url: host.url,
    port: host.port,
    service,
    addUser: (name, opts) => service.addUser(name, opts),
    rotateToken: (name, opts) => service.rotateToken(name, opts),
    close() {
      closing ??= (async () => {
        await service.close()
        await host.close()
      })()
      return closing
    },
  }
}
