// Replica slots (PUT/DELETE /v1/users/:user/slots/:slot) and the admin endpoints: adding and listing users, and
// the server's status (users, positions, slots and replica lag), all behind the admin token.

import type { UserStatus } from '../home-service.js'
import { type LogPosition, parsePosition } from '../position.js'
import type { WireRequest, WireResponse } from '../wire.js'
import { authUser, durableOf, type HomeContext, isAdmin, userLogDir, waitingTails } from './home-context.js'
import { confirmSlot, dropSlot } from './retention.js'
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
    confirmSlot(ctx, user, slot, lease.log, Math.min(position.seq, head.seq), position.chain)
    ctx.metrics.replicaLag.observe(Math.max(0, head.seq - position.seq))
    return json(200, { head })
  } finally {
    lease?.release()
  }
}

/** POST /v1/admin/users with `{ "name", "token"? }` → `{ name, token }`. */
export async function handleAddUser(
  ctx: HomeContext,
  request: WireRequest,
  addUser: (name: string, token: string | undefined) => Promise<string>,
): Promise<WireResponse> {
  if (!isAdmin(ctx, request)) return wireError(401, 'unauthorized', 'the admin token is required')
  const body = await readBody(request.body, 8192)
  const parsed = parseJson(body ?? new Uint8Array()) as { name?: unknown; token?: unknown } | undefined
  if (parsed === undefined || typeof parsed !== 'object' || parsed === null) {
    return wireError(400, 'bad-request', 'expected a JSON object { name, token? }')
  }
  if (!isUserName(parsed.name)) return wireError(400, 'bad-user-name', 'not a valid user name')
  if (parsed.token !== undefined && typeof parsed.token !== 'string') {
    return wireError(400, 'bad-request', 'token must be a string')
  }
  try {
    const token = await addUser(parsed.name, parsed.token)
    return json(201, { name: parsed.name, token })
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'REPLICATION_USER_EXISTS') return wireError(409, 'user-exists', (error as Error).message)
    if (code === 'REPLICATION_CONFIG') return wireError(400, 'bad-request', (error as Error).message)
    throw error
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
