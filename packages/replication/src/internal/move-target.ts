// Admin endpoints a mover calls on a move's target (PROTOCOL.md, "Moving a user"): reserve the user (inactive, with
// the source's token hash) and start copying it, report the copy's progress, wait until the copy is exactly at a
// position, activate once the directory names this home, or abandon (only while no switch to this home can have
// happened: the directory is asked first).

import { checkHomeUrl } from '../directory/entry-codec.js'
import type { DirectoryEntry } from '../directory.js'
import { type LogPosition, parsePosition } from '../position.js'
import type { Transport } from '../transport.js'
import type { WireRequest, WireResponse } from '../wire.js'
import type { TokenVerifier } from './auth.js'
import { HomeClient } from './home-client.js'
import type { HomeContext } from './home-context.js'
import { userLogDir } from './home-context.js'
import { CopyJob } from './move-copy.js'
import { moveBody } from './move-source.js'
import { reserve, stateOf } from './user-transitions.js'
import { json, wireError } from './wire-codec.js'

function moveStatus(ctx: HomeContext, user: string): Record<string, unknown> {
  const record = ctx.meta.user(user)
  if (record === undefined) return { state: 'none' }
  const job = ctx.homing?.jobs.get(user)
  if (job !== undefined) job.lastAsked = ctx.clock.now()
  return {
    state: stateOf(record),
    epoch: record.epoch,
    ...(record.reserve === undefined ? {} : { moveId: record.reserve.moveId, from: record.reserve.from }),
    ...(job === undefined ? {} : { progress: job.progress() }),
  }
}

/** Reads the source's record of the user (its token verifier travels with it). */
async function sourceRecord(
  ctx: HomeContext,
  transport: Transport,
  from: string,
  user: string,
): Promise<{ verifier: TokenVerifier; createdAt: number } | WireResponse> {
  try {
    const response = await transport.request({
      method: 'GET',
      url: `${from}/v1/admin/users/${user}`,
      headers: { authorization: `Bearer ${ctx.options.adminToken}` },
    })
    const chunks: Buffer[] = []
    for await (const c of response.body) chunks.push(Buffer.from(c))
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      tokenHash?: unknown
      keyId?: unknown
      createdAt?: unknown
    }
    if (response.status !== 200 || typeof body.tokenHash !== 'string') {
      return wireError(409, 'move-conflict', `the source answered ${response.status} for ${user}`)
    }
    // The hash and the id of the key that made it travel together: a home of the deployment holds that key.
    const verifier = { tokenHash: body.tokenHash, ...(typeof body.keyId === 'string' ? { keyId: body.keyId } : {}) }
    return { verifier, createdAt: Number(body.createdAt) || ctx.clock.now() }
  } catch (error) {
    return wireError(503, 'unavailable', `the source did not answer: ${(error as Error).message}`)
  }
}

/** POST /v1/admin/moves/:user/reserve `{ moveId, from, as, epoch }`: reserve the user here and start copying it. */
export async function handleReserve(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, body } = parsed
  const homing = ctx.homing
  if (homing === undefined) return wireError(409, 'move-conflict', 'this home has no directory')
  let from: string
  let as: string
  try {
    from = checkHomeUrl(body.from)
    as = checkHomeUrl(body.as)
  } catch {
    return wireError(400, 'bad-request', 'from and as must be http(s) URLs')
  }
  const epoch = body.epoch
  if (typeof body.moveId !== 'string' || typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 2) {
    return wireError(400, 'bad-request', 'expected { moveId, from, as, epoch }')
  }
  const source = await sourceRecord(ctx, homing.settings.transport, from, user)
  if ('status' in source) return source
  const moveId = body.moveId
  return ctx.mutex.run(user, async () => {
    const previous = ctx.meta.user(user)
    const state = previous === undefined ? 'none' : stateOf(previous)
    if (state === 'active' || state === 'frozen') {
      return wireError(409, 'move-conflict', `the user already lives here (${state})`)
    }
    if (state === 'reserved' && previous!.reserve?.moveId === moveId && homing.jobs.has(user)) {
      return json(200, moveStatus(ctx, user))
    }
    if (state === 'reserved' && previous!.reserve?.moveId !== moveId && previous!.reserve?.reached) {
      // Another move's copy reached its source's frozen head: that mover may switch to this home at any moment.
      return wireError(409, 'move-conflict', 'another move may switch this user here: it must settle first')
    }
    const old = homing.jobs.get(user)
    homing.jobs.delete(user)
    await old?.stop()
    const record = await reserve(ctx, user, previous, { moveId, from, as, epoch, verifier: source.verifier })
    const client = new HomeClient({
      home: from,
      user,
      token: ctx.options.adminToken ?? '',
      transport: homing.settings.transport,
      clock: ctx.clock,
    })
    const dir = userLogDir(ctx, user, record.generation)
    const job = new CopyJob(ctx, { user, moveId, dir, client, waitMs: 5_000 })
    homing.jobs.set(user, job)
    job.start()
    return json(200, moveStatus(ctx, user))
  })
}

/** GET /v1/admin/moves/:user — the user's state here and, while reserved, the copy's progress. */
export async function handleMoveStatus(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  return json(200, moveStatus(ctx, parsed.user))
}

/** POST /v1/admin/moves/:user/wait `{ moveId, position, timeoutMs }` → `{ verdict, progress }`. */
export async function handleWait(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, record, body } = parsed
  const job = ctx.homing?.jobs.get(user)
  if (job === undefined || record?.reserve?.moveId !== body.moveId) {
    return wireError(409, 'move-conflict', 'no copy of this move runs here')
  }
  let position: LogPosition | null
  try {
    position = body.position === null ? null : parsePosition(body.position)
  } catch {
    return wireError(400, 'bad-request', 'position must be a position or null')
  }
  const timeoutMs = Math.min(Math.max(0, Number(body.timeoutMs) || 0), 60_000)
  const verdict = await job.waitFor(position, timeoutMs)
  if (verdict === 'reached') {
    const refused = await takeFinalVerifier(ctx, user, body.moveId as string)
    if (refused !== undefined) return refused
    job.reached = true
  }
  return json(200, { verdict, progress: job.progress() })
}

/**
 * The copy reached the frozen source's head: the user's token verifier is read from the source once more and kept
 * in the reservation, so a token rotated on the source after the reservation copied it (the source refuses
 * rotations from its freeze on) is the one the target verifies once it activates; and the reservation is marked
 * `reached` (durably: no other move may take it over from now on). The answer to send if it cannot.
 */
async function takeFinalVerifier(ctx: HomeContext, user: string, moveId: string): Promise<WireResponse | undefined> {
  const homing = ctx.homing!
  const from = ctx.meta.user(user)?.reserve?.from
  if (from === undefined) return wireError(409, 'move-conflict', 'no copy of this move runs here')
  const source = await sourceRecord(ctx, homing.settings.transport, from, user)
  if ('status' in source) return source
  return ctx.mutex.run(user, async () => {
    const record = ctx.meta.user(user)
    if (record === undefined || stateOf(record) !== 'reserved' || record.reserve?.moveId !== moveId) {
      return wireError(409, 'move-conflict', 'no copy of this move runs here')
    }
    const { tokenHash: _hash, keyId: _key, ...rest } = record
    await ctx.meta.putUser(user, { ...rest, ...source.verifier, reserve: { ...record.reserve, reached: true } })
    return undefined
  })
}

/** POST /v1/admin/moves/:user/activate `{ moveId }`: the mover switched the directory; the home checks and serves. */
export async function handleActivate(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, record, body } = parsed
  if (record === undefined || (stateOf(record) === 'reserved' && record.reserve?.moveId !== body.moveId)) {
    return wireError(409, 'move-conflict', 'no reservation of this move here')
  }
  const settled = await ctx.homing?.settleReserved(user)
  if (settled === 'active') return json(200, moveStatus(ctx, user))
  return json(409, {
    error: { code: 'move-conflict', message: 'the directory does not name this home', current: settled ?? null },
  })
}

/**
 * POST /v1/admin/moves/:user/abandon `{ moveId }`: the mover gave up. The reservation is dropped unless the
 * directory already names this home (then it activates): the directory, not the mover, decides.
 */
export async function handleAbandon(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const parsed = await moveBody(ctx, request)
  if ('answer' in parsed) return parsed.answer
  const { user, body } = parsed
  const homing = ctx.homing
  if (homing === undefined) return wireError(409, 'move-conflict', 'this home has no directory')
  let entry: DirectoryEntry | undefined
  try {
    entry = await homing.directory.lookup(user)
  } catch {
    return wireError(503, 'unavailable', 'the directory did not answer: the reservation stays')
  }
  return ctx.mutex.run(user, async () => {
    const record = ctx.meta.user(user)
    if (record === undefined || stateOf(record) !== 'reserved') return json(200, moveStatus(ctx, user))
    if (record.reserve?.moveId !== body.moveId)
      return wireError(409, 'move-conflict', 'another move reserved this user')
    await homing.abandon(user, record, entry)
    return json(200, moveStatus(ctx, user))
  })
}
