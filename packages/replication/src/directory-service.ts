// The embedded directory's protocol core, independent of any HTTP framework: the user → home map in a homedb
// database of its own and its route table (PROTOCOL.md, "The embedded directory's HTTP protocol"). `startDirectory`
// hosts the routes over HTTP; a deterministic simulation (issue 18) opens it over a simulated file system with a
// virtual clock and calls the routes through a simulated network, as HomeService does for homes.
import type { FileLayer } from '@homedb/log'
import { type Clock, systemClock } from './clock.js'
import { directoryRoutes } from './directory/directory-routes.js'
import { EmbeddedDirectory } from './directory/embedded-directory.js'
import type { Directory } from './directory.js'
import { ReplicationConfigError } from './errors.js'
import { wireError } from './internal/wire-codec.js'
import type { OperatorUiOptions } from './operator-ui-options.js'
import { cryptoRandom, type Random } from './random.js'
import { directoryUiRoutes } from './ui/directory-ui.js'
import type { Route, WireRequest, WireResponse } from './wire.js'

/** Options of {@link DirectoryService.open} (and of `startDirectory`). */
export interface DirectoryServiceOptions {
  /** Directory holding the directory's own db (created if missing). */
  readonly dataDir: string
  /** The deployment's admin token: needed to register, compare-and-set, list, watch and read the token key. */
  readonly adminToken?: string
  /**
   * When set, lookups need this token (or the admin token). Without it lookups are open, like DNS MX records: they
   * reveal that a user name exists and where it lives (use opaque user ids where that matters).
   */
  readonly lookupToken?: string
  /** Longest a watcher's long-poll waits, ms. Default 20 000. */
  readonly maxWaitMs?: number
  /** File operations (default: node:fs). A simulation passes its simulated file system. */
  readonly fileLayer?: FileLayer
  /** Time for long-polls and timestamps (default: the system clock). */
  readonly clock?: Clock
  /** Randomness for the deployment's token key and the operator page's sessions (default: the OS's CSPRNG). */
  readonly random?: Random
  /** The operator page at `/ui` (on by default; it needs the admin token). */
  readonly ui?: OperatorUiOptions
}

function checkSecret(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a non-empty string`)
  }
}

/**
 * The embedded directory without a listener: its store (`local`, a Directory like any other) and its routes.
 *
 * @example
 * ```ts
 * // In process, over any file layer and clock (a simulation's); startDirectory serves `routes` with fastify.
 * const embedded = await DirectoryService.open({ dataDir: './data/embedded-directory', adminToken })
 * await embedded.local.register('carol', 'http://127.0.0.1:7101')
 * ;(await embedded.local.lookup('carol'))?.homeEpoch // -> 1
 * embedded.routes.some((route) => route.path === '/healthz') // -> true
 * await embedded.close()
 * ```
 */
export class DirectoryService {
  /** Every endpoint (PROTOCOL.md lists them), each refusing new requests with `unavailable` once closing. */
  readonly routes: readonly Route[]
  private inFlight = 0
  private idle: (() => void) | undefined
  private closing: Promise<void> | undefined

  private constructor(
    private readonly store: EmbeddedDirectory,
    private readonly stop: AbortController,
    options: DirectoryServiceOptions,
  ) {
    const routes = directoryRoutes(store, {
      adminToken: options.adminToken,
      lookupToken: options.lookupToken,
      maxWaitMs: options.maxWaitMs ?? 20_000,
      shutdown: stop.signal,
    })
    if (options.ui?.enabled !== false) {
      routes.push(
        ...directoryUiRoutes({
          store,
          adminToken: options.adminToken,
          clock: options.clock ?? systemClock,
          random: options.random ?? cryptoRandom,
          shutdown: stop.signal,
          options: options.ui ?? {},
        }),
      )
    }
    this.routes = routes.map((route) => ({ ...route, handler: (r: WireRequest) => this.guard(route, r) }))
  }

  /** Opens (or creates) the directory's db under `dataDir`; a new one gets the deployment's token key. */
  static async open(options: DirectoryServiceOptions): Promise<DirectoryService> {
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
    return new DirectoryService(store, new AbortController(), options)
  }

  /** The directory itself, in process (no HTTP). */
  get local(): Directory {
    return this.store
  }

  /** Counts in-flight requests (close waits for them) and refuses new ones while closing. */
  private async guard(route: Route, request: WireRequest): Promise<WireResponse> {
    if (this.closing !== undefined && route.path !== '/healthz') {
      return wireError(503, 'unavailable', 'the directory is shutting down')
    }
    this.inFlight++
    try {
      return await route.handler(request)
    } finally {
      this.inFlight--
      if (this.inFlight === 0) this.idle?.()
    }
  }

  /** Ends waiting long-polls, waits for the requests in flight, then closes the db. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort()
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve))
      await this.store.close()
    })()
    return this.closing
  }
}
