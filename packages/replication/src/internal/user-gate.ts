// What a user's state lets through, checked before a user endpoint runs (and again inside the user's lock for
// writes): a user whose log failed here answers `unavailable` until the home restarts (fail-stop), `moved` answers
// `moved` with the new home and epoch, `frozen` answers writes with a retryable `busy`,
// `reserved` (a move's target) first asks the directory whether the move switched to this home (then it activates
// and serves) and otherwise sends the caller to the home the directory names, or says `busy`.
import { UserStateError } from '../homing-errors.js'
import type { Route, WireRequest, WireResponse } from '../wire.js'
import { bearer, type HomeContext, isAdmin } from './home-context.js'
import type { UserRecord } from './meta-store.js'
import { isUserName } from './user-names.js'
import { stateOf } from './user-transitions.js'
import { wireError } from './wire-codec.js'

/** How long a writer told `busy` should wait before trying again, ms (a move's freeze is meant to be shorter). */
export const BUSY_RETRY_MS = 25

/** `moved`: the user lives at `home` under `epoch` now. Never cacheable. */
export function movedAnswer(home: string, epoch: number): WireResponse {
  return wireError(409, 'moved', `this user lives at ${home} now (homeEpoch ${epoch})`, { home, epoch })
}

/** `busy`: retry soon (a move holds the user). */
export function busyAnswer(why: string): WireResponse {
  return wireError(503, 'busy', why, { retryAfterMs: BUSY_RETRY_MS })
}

/**
 * `unavailable`: this user's log failed in this process (an I/O error: fail-stop); the home refuses the user until it
 * restarts, and says so in `/healthz`.
 */
export function failedAnswer(): WireResponse {
  return wireError(
    503,
    'unavailable',
    'the home could not write this user\u2019s log: it serves the user again once restarted',
  )
}

/** The answer for a write (append, snapshot upload) on a user in `record`'s state, if it may not go on. */
export function writeRefusal(record: UserRecord): WireResponse | undefined {
  const state = stateOf(record)
  if (state === 'active') return undefined
  if (state === 'moved' && record.movedTo !== undefined) return movedAnswer(record.movedTo.home, record.movedTo.epoch)
  return busyAnswer(state === 'frozen' ? 'a move holds this user: retry shortly' : 'this user is not served here yet')
}

/**
 * Throws {@link UserStateError} unless `user` is active here: an operation only the user's home may do (a token
 * rotation) is refused where the user moved away (`REPLICATION_MOVED`) or while a move holds it (`REPLICATION_BUSY`).
 */
export function refuseUnlessActive(user: string, record: UserRecord): void {
  const state = stateOf(record)
  if (state === 'active') return
  if (state === 'moved') {
    const { home, epoch } = record.movedTo ?? {}
    throw new UserStateError('REPLICATION_MOVED', `${user} lives at ${home} now (homeEpoch ${epoch})`, {
      user,
      home,
      epoch,
    })
  }
  throw new UserStateError('REPLICATION_BUSY', `a move holds ${user} here (${state}): retry shortly`, {
    user,
    state,
    retryAfterMs: BUSY_RETRY_MS,
  })
}

const WRITES = new Set(['POST /v1/users/:user/append', 'PUT /v1/users/:user/snapshot'])

/**
 * The answer for a request whose user is not served here in its state, or undefined to let the route run (which
 * authenticates as before). Only callers that prove who they are (the user's token, or the admin token) learn the
 * state; anyone else gets the route's own `unauthorized`.
 */
export async function gateRequest(
  ctx: HomeContext,
  route: Route,
  request: WireRequest,
): Promise<WireResponse | undefined> {
  if (!route.path.startsWith('/v1/users/:user')) return undefined
  const user = request.params.user
  if (!isUserName(user)) return undefined
  const record = ctx.meta.user(user)
  if (record === undefined) return undefined
  if (!ctx.meta.authenticate(user, bearer(request)) && !isAdmin(ctx, request)) return undefined
  if (ctx.cache.failure(user) !== undefined) return failedAnswer()
  const state = stateOf(record)
  if (state === 'active') return undefined
  if (state === 'moved')
    return record.movedTo === undefined ? undefined : movedAnswer(record.movedTo.home, record.movedTo.epoch)
  if (state === 'frozen') return WRITES.has(`${route.method} ${route.path}`) ? writeRefusal(record) : undefined
  // reserved: a client only gets here once the directory names this home (or from an old cache).
  const decided = await ctx.homing?.settleReserved(user)
  if (decided === 'active') return undefined
  if (decided !== undefined && typeof decided === 'object') return movedAnswer(decided.home, decided.homeEpoch)
  return busyAnswer('this user is being moved here: retry shortly')
}
