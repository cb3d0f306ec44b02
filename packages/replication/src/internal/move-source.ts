// Admin endpoints a mover calls on a move's source (PROTOCOL.md, "Moving a user"): the user's record (its token
// hash travels to the target), a schema-less state hash of its log at a seq, freeze under a lease (durable, and only
// once every append in flight was acknowledged: the answer is the exact head), unfreeze (the mover aborted) and
// moved (the directory switched; checked with the directory before the home believes it).
import { type Log, LogError } from '@homedb/log'
import { logStateHash } from '@homedb/tables'
import type { WireRequest, WireResponse } from '../wire.js'
import { type HomeContext, isAdmin, userLogDir } from './home-context.js'
import type { UserRecord } from './meta-store.js'
import { durableHead, freeze, moveAway, stateOf, unfreeze } from './user-transitions.js'
import { json, parseJson, readBody, wireError } from './wire-codec.js'

const MOVE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** The JSON body of an admin move request, or the answer refusing it. */
export async function moveBody(
  ctx: HomeContext,
  request: WireRequest,
): Promise<{ user: string; record: UserRecord | undefined; body: Record<string, unknown> } | { answer: WireResponse }> {
  if (!isAdmin(ctx, request)) return { answer: wireError(401, 'unauthorized', 'the admin token is required') }
  const user = request.params.user ?? ''
  const bytes = request.method === 'GET' ? Buffer.from('{}') : await readBody(request.body, 16 * 1024)
  const parsed = bytes === undefined ? undefined : parseJson(bytes)
  if (typeof parsed !== 'object' || parsed === null) {
    return { answer: wireError(400, 'bad-request', 'expected a JSON object') }
  }
  const body = parsed as Record<string, unknown>
  if (body.moveId !== undefined && (typeof body.moveId !== 'string' || !MOVE_ID.test(body.moveId))) {
    return { answer: wireError(400, 'bad-request', 'moveId is 1 to 64 of A-Z a-z 0-9 _ -') }
  }
  return { user, record: ctx.meta.user(user), body }
}

function unknownUser(): WireResponse {
  return wireError(404, 'unknown-user', 'this home has no such user')
}

function conflict(message: string, record: UserRecord): WireResponse {
  return json(409, { error: { code: 'move-conflict', message, state: stateOf(record), epoch: record.epoch } })
}

/** GET /v1/admin/users/:user — the record a target copies (token hash and its key's id, epoch, state). */
export async function handleUserRecord(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, record } = parsed
  if (record === undefined) return unknownUser()
  return json(200, {
    name: user,
    tokenHash: record.tokenHash,
    ...(record.keyId === undefined ? {} : { keyId: record.keyId }),
    epoch: record.epoch,
    state: stateOf(record),
    generation: record.generation,
    createdAt: record.createdAt,
    snapshot: record.snapshot,
    ...(record.movedTo === undefined ? {} : { movedTo: record.movedTo }),
    ...(record.freeze === undefined ? {} : { freeze: record.freeze }),
  })
}

/** GET /v1/admin/users/:user/state-hash?seq=S — the schema-less state hash at seq S (default: the head). */
export async function handleStateHash(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, record } = parsed
  if (record === undefined) return unknownUser()
  const job = ctx.homing?.jobs.get(user)
  const lease = job === undefined ? await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation)) : undefined
  const log: Log | undefined = job?.log ?? lease?.log
  try {
    if (log === undefined) return wireError(409, 'no-log', 'the home holds no log for this user', { head: null })
    const seq = request.query.seq === undefined ? log.head.seq : Number(request.query.seq)
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > log.head.seq) {
      return wireError(400, 'bad-request', `seq must be between 0 and the head (${log.head.seq})`)
    }
    const hash = await logStateHash(log, { upTo: seq })
    return json(200, { logId: log.logId, seq: hash.seq, chain: hash.chain, hash: hash.hash, tables: hash.tables })
  } catch (error) {
    const code = (error as { context?: { logCode?: string } }).context?.logCode
    if (code === 'LOG_NEED_SNAPSHOT' || (error instanceof LogError && error.code === 'LOG_NEED_SNAPSHOT')) {
      return wireError(409, 'need-snapshot', 'the log no longer holds that seq')
    }
    throw error
  } finally {
    lease?.release()
  }
}

/** POST /v1/admin/moves/:user/freeze `{ moveId, leaseMs }` → `{ head, epoch, until }`. */
export async function handleFreeze(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, body } = parsed
  const moveId = body.moveId
  const leaseMs = Number(body.leaseMs ?? ctx.homing?.settings.maxLeaseMs ?? 10_000)
  if (typeof moveId !== 'string' || !Number.isSafeInteger(leaseMs) || leaseMs < 1) {
    return wireError(400, 'bad-request', 'expected { moveId, leaseMs }')
  }
  const lease = Math.min(leaseMs, ctx.homing?.settings.maxLeaseMs ?? 10_000)
  return ctx.mutex.run(user, async () => {
    const record = ctx.meta.user(user)
    if (record === undefined) return unknownUser()
    const state = stateOf(record)
    const again = state === 'frozen' && record.freeze?.moveId === moveId
    if (state !== 'active' && !again) return conflict(`the user is ${state} here`, record)
    const until = ctx.clock.now() + lease
    await freeze(ctx, user, record, moveId, until)
    ctx.homing?.scheduleLease(user, { moveId, until })
    return json(200, { head: await durableHead(ctx, user, record), epoch: record.epoch, until })
  })
}

/** POST /v1/admin/moves/:user/unfreeze `{ moveId }`: the mover gave up before its switch; the user is active again. */
export async function handleUnfreeze(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, body } = parsed
  return ctx.mutex.run(user, async () => {
    const record = ctx.meta.user(user)
    if (record === undefined) return unknownUser()
    if (stateOf(record) === 'frozen') {
      if (record.freeze?.moveId !== body.moveId) return conflict('another move holds this user', record)
      ctx.homing?.cancelLease(user)
      await unfreeze(ctx, user, record, record.epoch)
    }
    const now = ctx.meta.user(user)!
    return json(200, { state: stateOf(now), epoch: now.epoch })
  })
}

/**
 * POST /v1/admin/moves/:user/moved `{ moveId, home, epoch }`: the mover's switch succeeded. The home asks the
 * directory itself before it stops serving the user (a wrong claim changes nothing).
 */
export async function handleMoved(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user } = parsed
  const homing = ctx.homing
  if (homing === undefined) return wireError(409, 'move-conflict', 'this home has no directory')
  let entry: Awaited<ReturnType<typeof homing.directory.lookup>>
  try {
    entry = await homing.directory.lookup(user)
  } catch {
    return wireError(503, 'unavailable', 'the directory did not answer: the lease will settle the user')
  }
  return ctx.mutex.run(user, async () => {
    const record = ctx.meta.user(user)
    if (record === undefined) return unknownUser()
    if (stateOf(record) !== 'moved') {
      if (entry === undefined || entry.homeEpoch <= record.epoch || entry.home === homing.url) {
        return conflict('the directory does not say the user moved', record)
      }
      homing.cancelLease(user)
      await moveAway(ctx, user, record, entry.home, entry.homeEpoch)
    }
    return json(200, { state: 'moved', home: ctx.meta.user(user)!.movedTo?.home })
  })
}
