// What every handler of the home shares: resolved options, the meta store, the log cache, per-user locks, the
// durable head of each open log (only durable frames are served), tail waiters, metrics and the auth checks.
import { join } from 'node:path'
import type { FileLayer, Log } from '@homedb/log'
import type { AcceptedAppend } from '../accepted-append.js'
import type { Clock } from '../clock.js'
import { headPosition, type LogPosition } from '../position.js'
import type { Random } from '../random.js'
import type { WireRequest, WireResponse } from '../wire.js'
import type { HomeMetrics } from './home-metrics.js'
import type { HomingLink } from './homing-link.js'
import type { KeyedMutex } from './keyed-mutex.js'
import type { ResolvedLimits, TailCount } from './limits.js'
import type { LogCache } from './log-cache.js'
import type { MetaStore, UserRecord } from './meta-store.js'
import type { RateLimiter } from './rate-limit.js'
import { isUserName } from './user-names.js'
import { wireError } from './wire-codec.js'

/** The home's options with every default applied (see HomeServiceOptions for meanings). */
export interface ResolvedHomeOptions {
  readonly dataDir: string
  readonly adminToken: string | undefined
  readonly maxOpenLogs: number
  readonly pageCommits: number
  readonly maxAppendBytes: number
  readonly maxFrameBytes: number
  readonly maxSnapshotBytes: number
  readonly maxResponseBytes: number
  readonly maxWaitMs: number
  readonly maxSlotAgeMs: number
  readonly maxSlotLagBytes: number
  readonly publicSegments: boolean
  readonly segmentBytes: number | undefined
  readonly limits: ResolvedLimits
}

export interface HomeContext {
  readonly options: ResolvedHomeOptions
  readonly fs: FileLayer
  readonly clock: Clock
  readonly random: Random
  readonly meta: MetaStore
  readonly cache: LogCache
  readonly mutex: KeyedMutex
  readonly metrics: HomeMetrics
  /** Highest position known durable per open log; frames past it are never served. */
  readonly durable: WeakMap<Log, LogPosition>
  /** Last head seen per user since the server started (status reports it without opening logs). */
  readonly heads: Map<string, LogPosition>
  /** Wakes the tails waiting on a user. */
  readonly waiters: Map<string, Set<() => void>>
  /** Aborts every long-poll when the server shuts down. */
  readonly shutdown: AbortSignal
  /** The home's place in a deployment with a directory (moves, redirects); undefined for a standalone home. */
  homing: HomingLink | undefined
  /** Told about every append the home acknowledged (audits: one home per user and homeEpoch). */
  readonly onAccepted: ((append: AcceptedAppend) => void) | undefined
  /** Per-token request rate (undefined when turned off). */
  readonly rate: RateLimiter | undefined
  /** Long-polls in flight (bounded per user and per server). */
  readonly tails: TailCount
}

/** The directory of a user's log generation. */
export function userLogDir(ctx: HomeContext, user: string, generation: number): string {
  return join(ctx.options.dataDir, 'users', user, `log-${generation}`)
}

/** Records that `log` is durable up to its head and wakes the user's tails. */
export function markDurable(ctx: HomeContext, user: string, log: Log): void {
  const head = headPosition(log)
  ctx.durable.set(log, head)
  ctx.heads.set(user, head)
  wakeTails(ctx, user)
}

/** Wakes every tail waiting on `user` (new commits, or its token changed and each must check it again). */
export function wakeTails(ctx: HomeContext, user: string): void {
  const waiting = ctx.waiters.get(user)
  if (waiting === undefined) return
  ctx.waiters.delete(user)
  for (const wake of waiting) wake()
}

/** The durable position of an open log (its head at open time until an append is synced). */
export function durableOf(ctx: HomeContext, log: Log): LogPosition {
  return ctx.durable.get(log) ?? headPosition(log)
}

/** The bearer token of a request, if it carries one. */
export function bearer(request: WireRequest): string | undefined {
  const header = request.headers.authorization
  if (header === undefined || !header.startsWith('Bearer ')) return undefined
  return header.slice('Bearer '.length)
}

/** The user a request is for, once its name and token check out; otherwise the answer to send. */
export function authUser(
  ctx: HomeContext,
  request: WireRequest,
): { user: string; record: UserRecord } | { answer: WireResponse } {
  const user = request.params.user
  if (!isUserName(user)) return { answer: wireError(400, 'bad-user-name', 'not a valid user name') }
  // The admin token reads any user (a move's target copies the user from its source with it), never writes.
  const adminRead = request.method === 'GET' && ctx.meta.user(user) !== undefined && isAdmin(ctx, request)
  if (!ctx.meta.authenticate(user, bearer(request)) && !adminRead) {
    return { answer: wireError(401, 'unauthorized', 'unknown user or wrong token') }
  }
  return { user, record: ctx.meta.user(user)! }
}

/** Whether the request carries the admin token (constant time; always false without one configured). */
export function isAdmin(ctx: HomeContext, request: WireRequest): boolean {
  const given = bearer(request)
  const admin = ctx.options.adminToken
  if (admin === undefined) return false
  return ctx.meta.auth.same(given ?? '', admin) && given !== undefined
}

/** Waits until `user`'s durable head moves, `ms` pass, or `signal`/shutdown fires. */
export function waitForAppend(ctx: HomeContext, user: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const waiting = ctx.waiters.get(user) ?? new Set()
    ctx.waiters.set(user, waiting)
    const abort = new AbortController()
    const done = () => {
      waiting.delete(done)
      if (waiting.size === 0 && ctx.waiters.get(user) === waiting) ctx.waiters.delete(user)
      signal.removeEventListener('abort', done)
      ctx.shutdown.removeEventListener('abort', done)
      abort.abort()
      resolve()
    }
    waiting.add(done)
    signal.addEventListener('abort', done, { once: true })
    ctx.shutdown.addEventListener('abort', done, { once: true })
    if (signal.aborted || ctx.shutdown.aborted) return done()
    void ctx.clock.sleep(ms, abort.signal).then(done)
  })
}

/** Tails waiting now (metrics). */
export function waitingTails(ctx: HomeContext): number {
  let n = 0
  for (const set of ctx.waiters.values()) n += set.size
  return n
}
