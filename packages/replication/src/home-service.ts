// The home's protocol core, independent of any HTTP framework: storage (one @homedb/log per user, the home's own
// records in a homedb db), auth, appends, reads, snapshots and replica slots, exposed as a route table. The
// fastify adapter (startHomeServer) hosts the routes; a simulated network can call `handle` directly.
import { setMaxListeners } from 'node:events'
import { join } from 'node:path'
import { nodeFileLayer } from '@homedb/log'
import { systemClock } from './clock.js'
import { ReplicationConfigError } from './errors.js'
import type { HomeServiceOptions } from './home-service-options.js'
import { handleAddUser, handleRotate, handleSlot, handleStatus, usersStatus } from './internal/admin-handlers.js'
import { handleAppend } from './internal/append-handler.js'
import { checkToken, decodeTokenKey } from './internal/auth.js'
import {
  type HomeContext,
  markDurable,
  type ResolvedHomeOptions,
  waitingTails,
  wakeTails,
} from './internal/home-context.js'
import { HomeMetrics } from './internal/home-metrics.js'
import { homingRoutes } from './internal/homing-routes.js'
import { checkHomingOptions, createHoming, homeDirectory, tokenKeyOf } from './internal/homing-setup.js'
import { KeyedMutex } from './internal/keyed-mutex.js'
import { resolveLimits, TailCount } from './internal/limits.js'
import { LogCache } from './internal/log-cache.js'
import { MetaStore } from './internal/meta-store.js'
import { admit, RateLimiter } from './internal/rate-limit.js'
import { handleFrames, handleInfo, handlePage } from './internal/read-handlers.js'
import { applyHolds } from './internal/retention.js'
import { handleSnapshotGet, handleSnapshotPut } from './internal/snapshot-handlers.js'
import { recordLatestSnapshot } from './internal/snapshot-record.js'
import { gateRequest, refuseUnlessActive } from './internal/user-gate.js'
import { checkUserName } from './internal/user-names.js'
import { json, wireError } from './internal/wire-codec.js'
import type { OperatorUiOptions } from './operator-ui-options.js'
import { cryptoRandom } from './random.js'
import { HomeUi } from './ui/home-ui.js'
import type { UserStatus } from './user-status.js'
import type { Route, WireRequest, WireResponse } from './wire.js'

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a positive integer`, { [name]: value })
  }
  return v
}

function resolve(options: HomeServiceOptions): ResolvedHomeOptions {
  if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'dataDir must be a non-empty string')
  }
  if (options.adminToken !== undefined) checkToken(options.adminToken, 'adminToken')
  if (options.tokenKey !== undefined) decodeTokenKey(options.tokenKey)
  const MiB = 1024 * 1024
  return {
    dataDir: options.dataDir,
    adminToken: options.adminToken,
    maxOpenLogs: positiveInt('maxOpenLogs', options.maxOpenLogs, 256),
    pageCommits: positiveInt('pageCommits', options.pageCommits, 256),
    maxAppendBytes: positiveInt('maxAppendBytes', options.maxAppendBytes, 16 * MiB),
    maxFrameBytes: positiveInt('maxFrameBytes', options.maxFrameBytes, 16 * MiB),
    maxSnapshotBytes: positiveInt('maxSnapshotBytes', options.maxSnapshotBytes, 256 * MiB),
    maxResponseBytes: positiveInt('maxResponseBytes', options.maxResponseBytes, MiB),
    maxWaitMs: positiveInt('maxWaitMs', options.maxWaitMs, 20_000),
    maxSlotAgeMs: positiveInt('maxSlotAgeMs', options.maxSlotAgeMs, 7 * 24 * 3600 * 1000),
    maxSlotLagBytes: positiveInt('maxSlotLagBytes', options.maxSlotLagBytes, 64 * MiB),
    publicSegments: options.publicSegments ?? false,
    segmentBytes: options.segmentBytes,
    limits: resolveLimits(options),
  }
}

/**
 * The home's protocol core. Open it with {@link HomeService.open}; host `routes` in an HTTP server (as
 * `startHomeServer` does) or call `handle` directly.
 *
 * @example
 * ```ts
 * const home = await HomeService.open({ dataDir: './data/home', adminToken })
 * const token = await home.addUser('alice')
 * const signal = new AbortController().signal // fires when the client goes away
 * const answer = await home.handle({ method: 'GET', path: '/healthz', query: {}, headers: {}, body: new Uint8Array(), signal })
 * console.log(answer.status) // -> 200
 * await home.close()
 * ```
 */
export class HomeService {
  /** Every endpoint (PROTOCOL.md lists them). */
  readonly routes: readonly Route[]
  private inFlight = 0
  private idle: (() => void) | undefined
  private closing: Promise<void> | undefined
  private readonly ui: HomeUi | undefined

  private constructor(
    private readonly ctx: HomeContext,
    private readonly stop: AbortController,
    ui: OperatorUiOptions,
  ) {
    const service = { rotateToken: (name: string) => this.rotateToken(name), inFlight: () => this.inFlight }
    this.ui = ui.enabled === false ? undefined : new HomeUi(ctx, service, ui)
    this.routes = this.buildRoutes()
  }

  /** Opens (or creates) the home's data dir. */
  static async open(options: HomeServiceOptions): Promise<HomeService> {
    const resolved = resolve(options)
    checkHomingOptions(options)
    const fs = options.fileLayer ?? nodeFileLayer
    const clock = options.clock ?? systemClock
    const random = options.random ?? cryptoRandom
    const link = homeDirectory(options)
    const tokenKey = await tokenKeyOf(options, link).catch(async (error: unknown) => {
      if (link?.owns) await link.directory.close()
      throw error
    })
    const meta = await MetaStore.open(join(resolved.dataDir, 'meta'), fs, random, clock.now(), tokenKey)
    const stop = new AbortController()
    // Every waiting tail listens for the shutdown: many at once is normal, not a leak.
    setMaxListeners(0, stop.signal)
    let ctx: HomeContext | undefined
    const cache = new LogCache({
      fs,
      max: resolved.maxOpenLogs,
      segmentBytes: resolved.segmentBytes,
      maxPayloadBytes: resolved.maxFrameBytes,
      onOpen: async (user, log) => {
        applyHolds(ctx!, user, log)
        markDurable(ctx!, user, log)
        await recordLatestSnapshot(ctx!, user, log)
      },
    })
    const metrics = new HomeMetrics(
      {
        users: () => meta.userCount,
        openLogs: () => cache.openCount,
        tails: () => waitingTails(ctx!),
      },
      options.processMetrics ?? true,
    )
    ctx = {
      options: resolved,
      fs,
      clock,
      random,
      meta,
      cache,
      mutex: new KeyedMutex(),
      metrics,
      durable: new WeakMap(),
      heads: new Map(),
      waiters: new Map(),
      shutdown: stop.signal,
      homing: undefined,
      onAccepted: options.onAccepted,
      rate: resolved.limits.rateLimit === false ? undefined : new RateLimiter(resolved.limits.rateLimit, clock),
      tails: new TailCount(resolved.limits),
    }
    if (link !== undefined) ctx.homing = createHoming(ctx, options, link)
    return new HomeService(ctx, stop, options.ui ?? {})
  }

  private buildRoutes(): Route[] {
    const ctx = this.ctx
    const o = ctx.options
    const add = (name: string, token: string | undefined) => this.addUser(name, token === undefined ? {} : { token })
    const rotate = (name: string, token: string | undefined) =>
      this.rotateToken(name, token === undefined ? {} : { token })
    const routes: Route[] = [
      { method: 'GET', path: '/healthz', handler: async () => this.health() },
      { method: 'GET', path: '/metrics', handler: async () => this.metricsAnswer() },
      {
        method: 'POST',
        path: '/v1/users/:user/append',
        bodyLimit: o.maxAppendBytes,
        handler: (r) => handleAppend(ctx, r),
      },
      { method: 'GET', path: '/v1/users/:user/log', handler: (r) => handleInfo(ctx, r) },
      { method: 'GET', path: '/v1/users/:user/frames', handler: (r) => handleFrames(ctx, r) },
      { method: 'GET', path: '/v1/users/:user/logs/:logId/pages/:page', handler: (r) => handlePage(ctx, r) },
      { method: 'GET', path: '/v1/users/:user/logs/:logId/snapshots/:seq', handler: (r) => handleSnapshotGet(ctx, r) },
      { method: 'PUT', path: '/v1/users/:user/snapshot', body: 'stream', handler: (r) => handleSnapshotPut(ctx, r) },
      { method: 'PUT', path: '/v1/users/:user/slots/:slot', bodyLimit: 4096, handler: (r) => handleSlot(ctx, r) },
      { method: 'DELETE', path: '/v1/users/:user/slots/:slot', handler: (r) => handleSlot(ctx, r) },
      { method: 'POST', path: '/v1/admin/users', bodyLimit: 8192, handler: (r) => handleAddUser(ctx, r, add) },
      {
        method: 'POST',
        path: '/v1/admin/users/:user/token',
        bodyLimit: 8192,
        handler: (r) => handleRotate(ctx, r, rotate),
      },
      { method: 'GET', path: '/v1/admin/users', handler: async (r) => handleStatus(ctx, r, () => this.inFlight) },
      { method: 'GET', path: '/v1/admin/status', handler: async (r) => handleStatus(ctx, r, () => this.inFlight) },
      ...homingRoutes(ctx),
      ...(this.ui?.routes ?? []),
    ]
    return routes.map((route) => ({ ...route, handler: (r: WireRequest) => this.guard(route, r) }))
  }

  /**
   * Counts in-flight requests (close waits for them), refuses new ones while closing, applies the per-token rate,
   * turns throws into 500s.
   */
  private async guard(route: Route, request: WireRequest): Promise<WireResponse> {
    if (this.closing !== undefined && route.path !== '/healthz') {
      return wireError(503, 'unavailable', 'the home is shutting down')
    }
    this.inFlight++
    let answer: WireResponse
    try {
      answer =
        (route.path === '/healthz' ? undefined : admit(this.ctx, request)) ??
        (await gateRequest(this.ctx, route, request)) ??
        (await route.handler(request))
    } catch (error) {
      answer = wireError(500, 'internal', (error as Error)?.message ?? String(error))
    } finally {
      this.inFlight--
      if (this.inFlight === 0) this.idle?.()
    }
    this.ctx.metrics.requests.inc({ route: `${route.method} ${route.path}`, status: String(answer.status) })
    this.ui?.observe(route, request, answer)
    return answer
  }

  /**
   * `200 { ok: true }`, or `503` while closing, or once a user's log or the home's records failed with an I/O error
   * (fail-stop: the home must restart to serve them again; `failedLogs` counts the users refused meanwhile).
   */
  private health(): WireResponse {
    if (this.closing !== undefined) return json(503, { ok: false })
    const failedLogs = this.ctx.cache.failedCount
    const records = this.ctx.meta.failure === undefined
    if (failedLogs > 0 || !records) return json(503, { ok: false, failedLogs, recordsFailed: !records })
    return json(200, { ok: true })
  }

  private async metricsAnswer(): Promise<WireResponse> {
    const text = await this.ctx.metrics.text()
    return {
      status: 200,
      headers: { 'content-type': this.ctx.metrics.contentType, 'cache-control': 'no-store' },
      body: Buffer.from(text),
    }
  }

  /** Finds the route for a request and runs it (for callers without an HTTP framework, e.g. a simulated network). */
  handle(request: Omit<WireRequest, 'params'>): Promise<WireResponse> {
    for (const route of this.routes) {
      if (route.method !== request.method) continue
      const params = matchPath(route.path, request.path)
      if (params !== undefined) return route.handler({ ...request, params })
    }
    return Promise.resolve(wireError(404, 'not-found', `no endpoint ${request.method} ${request.path}`))
  }

  /**
   * Adds a user. With `token`, that token authenticates the user; without, a high-entropy token is generated and
   * returned (show it once: the home keeps only its keyed hash). With a directory, the user is registered there
   * first (homeEpoch 1, this home). Rejects with `REPLICATION_BAD_USER`, `REPLICATION_CONFIG` (a token shorter than
   * 16 characters), `REPLICATION_USER_EXISTS` (here, or homed elsewhere in the directory), `REPLICATION_QUOTA`
   * (`maxUsers` reached) or `REPLICATION_DIRECTORY`.
   */
  async addUser(name: string, options: { token?: string } = {}): Promise<string> {
    checkUserName(name)
    const { maxUsers } = this.ctx.options.limits
    if (this.ctx.homing !== undefined && this.ctx.meta.user(name) === undefined) {
      this.ctx.meta.checkNewUser(name, options.token, maxUsers)
      await this.ctx.homing.register(name)
    }
    return this.ctx.meta.addUser(name, options.token, this.ctx.clock.now(), maxUsers)
  }

  /**
   * Gives `name` a new token (generated, or `options.token`) and returns it. From the moment this resolves the old
   * token is refused everywhere, including by the live tails opened with it (they end with `401 unauthorized`).
   * Only the home that serves the user (`active`) rotates: rejects with `REPLICATION_MOVED` where the user moved
   * away (rotate at `context.home`), `REPLICATION_BUSY` while a move holds it (frozen or reserved: retry), and with
   * `REPLICATION_BAD_USER`, `REPLICATION_CONFIG` or `REPLICATION_NO_USER`.
   */
  async rotateToken(name: string, options: { token?: string } = {}): Promise<string> {
    checkUserName(name)
    const token = await this.ctx.mutex.run(name, async () => {
      const record = this.ctx.meta.user(name)
      if (record !== undefined) refuseUnlessActive(name, record)
      return this.ctx.meta.rotateToken(name, options.token)
    })
    wakeTails(this.ctx, name)
    return token
  }

  /**
   * Tells the home the URL it listens at (`startHomeServer` does). With a directory, the home then registers users
   * under this URL (unless `publicUrl` was given), watches the directory and reconciles moves.
   */
  listening(url: string): void {
    this.ctx.homing?.start(url)
  }

  /** Every user with epoch, generation, last seen head, snapshot and slots (opens no log). */
  users(): UserStatus[] {
    return usersStatus(this.ctx)
  }

  /** Logs open now (bounded by `maxOpenLogs` while idle). */
  get openLogs(): number {
    return this.ctx.cache.openCount
  }

  /**
   * Stops taking requests (they get `unavailable`), ends waiting tails, waits for in-flight appends to be
   * acknowledged, then closes every log and the home's records. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    this.stop.abort()
    await this.ctx.homing?.close()
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve))
    await this.ctx.cache.closeAll()
    await this.ctx.meta.close()
  }
}

/** Matches `/v1/users/:user/log` against a path; the parameters, or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (w.startsWith(':')) {
      if (g === '') return undefined
      try {
        params[w.slice(1)] = decodeURIComponent(g)
      } catch {
        return undefined
      }
    } else if (w !== g) return undefined
  }
  return params
}
