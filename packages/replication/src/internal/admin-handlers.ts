// Replica slots (PUT/DELETE /v1/users/:user/slots/:slot) and the admin endpoints: adding and listing users,
// rotating a user's token, and the server's status (users, positions, slots and replica lag), all behind the admin
// token.

import { type LogPosition, parsePosition } from '../position.js'
import type { UserStatus } from '../user-status.js'
import type { WireRequest, WireResponse } from '../wire.js'
import { authUser, durableOf, type HomeContext, isAdmin, userLogDir, waitingTails } from './home-context.js'
import { confirmSlot, dropSlot } from './retention.js'
import { busyAnswer, movedAnswer } from './user-gate.js'
import { isUserName } from './user-names.js'
import { statusFields } from './user-transitions.js'
import { json, parseJson, readBody, wireError } from './wire-codec.js'

const SLOT_NAME = /^[A-Za-z0-9_-]{1,64}$/

/** PUT /v1/users/:user/slots/:slot with `{ "position": … }`; DELETE drops the slot. */
export async function handleSlot(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  const { user, record } = auth
  const slot = request.params.slot ?? ''
  if (!SLOT_NAME.test(slot)) return wireError(400, 'bad-request', 'a slot name is 1 to 64 of A-Z a-z 0-9 _ -')
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  try {
    if (request.method === 'DELETE') {
      dropSlot(ctx, user, slot, lease?.log)
      return { status: 204, headers: { 'cache-control': 'no-store' } }
    }
    const body = await readBody(request.body, 4096)
    let position: LogPosition
    try {
      position = parsePosition((parseJson(body ?? new Uint8Array()) as { position?: unknown } | undefined)?.position)
    } catch (error) {
      return wireError(400, 'bad-request', (error as Error).message)
    }
    if (lease === undefined) return wireError(409, 'no-log', 'the home holds no log for this user yet', { head: null })
    const head = durableOf(ctx, lease.log)
    if (position.logId !== lease.log.logId)
      return wireError(409, 'incompatible', 'the home holds another log', { head })
    if (position.seq < lease.log.start.seq) {
      // Nothing to hold there any more (the replica must load the snapshot); a hold would pin the whole log.
      return wireError(409, 'need-snapshot', 'the home no longer holds the commits after that position', { head })
    }
    confirmSlot(ctx, user, slot, lease.log, Math.min(position.seq, head.seq), position.chain)
    ctx.metrics.replicaLag.observe(Math.max(0, head.seq - position.seq))
    return json(200, { head })
  } finally {
    lease?.release()
  }
}

/** An admin request's JSON body `{ name?, token? }`, or the answer to send. */
async function adminBody(
  ctx: HomeContext,
  request: WireRequest,
): Promise<{ name?: unknown; token: string | undefined } | WireResponse> {
  if (!isAdmin(ctx, request)) return wireError(401, 'unauthorized', 'the admin token is required')
  const body = await readBody(request.body, 8192)
  if (body === undefined) return wireError(413, 'too-large', 'an admin request body is at most 8192 bytes')
  const parsed = body.byteLength === 0 ? {} : parseJson(body)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return wireError(400, 'bad-request', 'expected a JSON object')
  }
  const { name, token } = parsed as { name?: unknown; token?: unknown }
  if (token !== undefined && typeof token !== 'string') return wireError(400, 'bad-request', 'token must be a string')
  return { name, token }
}

/** The wire answer for an error a user operation rejected with. */
function refusal(error: unknown): WireResponse {
  const message = (error as Error).message
  switch ((error as { code?: string }).code) {
    case 'REPLICATION_USER_EXISTS':
      return wireError(409, 'user-exists', message)
    case 'REPLICATION_NO_USER':
      return wireError(404, 'no-user', message)
    case 'REPLICATION_QUOTA':
      return wireError(403, 'quota', message)
    case 'REPLICATION_BAD_USER':
      return wireError(400, 'bad-user-name', message)
    case 'REPLICATION_CONFIG':
      return wireError(400, 'bad-request', message)
    case 'REPLICATION_MOVED': {
      const { home, epoch } = (error as { context: { home: string; epoch: number } }).context
      return movedAnswer(home, epoch)
    }
    case 'REPLICATION_BUSY':
      return busyAnswer(message)
    default:
      throw error
  }
}

/** POST /v1/admin/users with `{ "name", "token"? }` → `{ name, token }`. */
export async function handleAddUser(
  ctx: HomeContext,
  request: WireRequest,
  addUser: (name: string, token: string | undefined) => Promise<string>,
): Promise<WireResponse> {
  const parsed = await adminBody(ctx, request)
  if ('status' in parsed) return parsed
  if (!isUserName(parsed.name)) return wireError(400, 'bad-user-name', 'not a valid user name')
  try {
    const token = await addUser(parsed.name, parsed.token)
    return json(201, { name: parsed.name, token })
  } catch (error) {
    return refusal(error)
  }
}

/** POST /v1/admin/users/:user/token with `{ "token"? }` (or no body) → `{ name, token }`: the new token. */
export async function handleRotate(
  ctx: HomeContext,
  request: WireRequest,
  rotate: (name: string, token: string | undefined) => Promise<string>,
): Promise<WireResponse> {
  const parsed = await adminBody(ctx, request)
  if ('status' in parsed) return parsed
  const name = request.params.user
  if (!isUserName(name)) return wireError(400, 'bad-user-name', 'not a valid user name')
  try {
    return json(200, { name, token: await rotate(name, parsed.token) })
  } catch (error) {
    return refusal(error)
  }
}

/** The status of every user (no log is opened for it). */
export function usersStatus(ctx: HomeContext): UserStatus[] {
  const out: UserStatus[] = []
  for (const [name, record] of ctx.meta.users()) {
    const head = ctx.heads.get(name) ?? null
    const slots = [...ctx.meta.slots(name)].map(([slot, s]) => ({
      name: slot,
      seq: s.seq,
      lag: head === null ? null : Math.max(0, head.seq - s.seq),
      confirmedAt: s.confirmedAt,
    }))
    const snapshot = record.snapshot === null ? null : { seq: record.snapshot.seq, bytes: record.snapshot.bytes }
    const state = statusFields(ctx, name, record)
    out.push({ name, ...state, epoch: record.epoch, generation: record.generation, head, snapshot, slots })
  }
  return out
}

/** GET /v1/admin/users and GET /v1/admin/status. */
export function handleStatus(ctx: HomeContext, request: WireRequest, inFlight: () => number): WireResponse {
  if (!isAdmin(ctx, request)) return wireError(401, 'unauthorized', 'the admin token is required')
  return json(200, {
    kind: 'home',
    url: ctx.homing?.url ?? null,
    server: {
      users: ctx.meta.userCount,
      openLogs: ctx.cache.openCount,
      tails: waitingTails(ctx),
      inFlight: inFlight(),
    },
    users: usersStatus(ctx),
  })
}
