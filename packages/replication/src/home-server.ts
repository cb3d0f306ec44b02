// startHomeServer: the home's HTTP server. The generic route host (internal/route-host.ts) serves the protocol
// core's route table (body limits, timeouts, parameter schemas, pino logging, graceful close); everything the
// protocol decides stays in HomeService.
import { HomeService, type HomeServiceOptions } from './home-service.js'
import { hostRoutes, type RouteHost } from './internal/route-host.js'

const USER_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$'

/** Options of {@link startHomeServer}: the HomeService options plus where and how to listen. */
export interface HomeServerOptions extends HomeServiceOptions {
  /** TCP port; 0 picks a free one (see `server.url`). Default 0. */
  readonly port?: number
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Log requests with pino (fastify's logger): `true` for JSON lines on stdout. Default false. */
  readonly logger?: boolean
  /** A request (headers and body) must arrive within this many ms. Default 60 000. */
  readonly requestTimeoutMs?: number
  /** Idle keep-alive connections are closed after this many ms. Default 65 000. */
  readonly keepAliveTimeoutMs?: number
}

/** A running home server. */
export interface HomeServer {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  /** The protocol core behind it. */
  readonly service: HomeService
  /** Adds a user (see {@link HomeService.addUser}); resolves with its token. */
  addUser(name: string, options?: { token?: string }): Promise<string>
  /** Stops accepting requests, finishes in-flight appends, closes every log. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a home server: opens the data dir and listens.
 *
 * @example
 * ```ts
 * import { startHomeServer } from '@homedb/replication'
 * const server = await startHomeServer({ dataDir: './home', port: 0, host: '127.0.0.1', adminToken })
 * const token = await server.addUser('alice')
 * console.log(server.url)
 * await server.close()
 * ```
 */
export async function startHomeServer(options: HomeServerOptions): Promise<HomeServer> {
  const service = await HomeService.open(options)
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
    service,
    addUser: (name, opts) => service.addUser(name, opts),
    close() {
      closing ??= (async () => {
        await service.close()
        await host.close()
      })()
      return closing
    },
  }
}
