// Reading a user's log: log info (a control answer), the live tail as a long-poll from a position, and sealed
// pages of commits as immutable, cacheable resources (PROTOCOL.md, "Reading"). Only durable frames are served.
import type { Log } from '@homedb/log'
import { type LogPosition, relatePosition } from '../position.js'
import { CONTENT_TYPES, HEADERS, type WireRequest, type WireResponse } from '../wire.js'
import { authUser, bearer, durableOf, type HomeContext, userLogDir, waitForAppend } from './home-context.js'
import { leased } from './leased-stream.js'
import { TAIL_RETRY_AFTER_S } from './limits.js'
import type { LogLease } from './log-cache.js'
import { pageChain, streamPage } from './page-stream.js'
import { recall } from './recent-frames.js'
import { movedAnswer } from './user-gate.js'
import { formatPosition, json, NO_STORE, parsePositionText, wireError } from './wire-codec.js'

/** GET /v1/users/:user/log */
export async function handleInfo(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  const { user, record } = auth
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  if (lease === undefined) return json(200, { user, epoch: record.epoch, log: null })
  try {
    const log = lease.log
    const head = durableOf(ctx, log)
    // Read again: opening the log may have recorded its latest snapshot (snapshot-record.ts).
    const stored = ctx.meta.user(user)?.snapshot ?? record.snapshot
    const snapshot = stored?.logId === log.logId ? stored : null
    return json(200, {
      user,
      epoch: record.epoch,
      log: {
        logId: log.logId,
        head,
        start: { logId: log.logId, ...log.start },
        snapshot,
        pageCommits: ctx.options.pageCommits,
        sealedPages: Math.floor(head.seq / ctx.options.pageCommits),
      },
    })
  } finally {
    lease.release()
  }
}

function controlFor(log: Log, relation: string, head: LogPosition): WireResponse {
  const extra = { head, start: { logId: log.logId, ...log.start } }
  if (relation === 'incompatible') return wireError(409, 'incompatible', 'the home holds another log', extra)
  if (relation === 'need-snapshot') {
    return wireError(
      409,
      'need-snapshot',
      'the commits after that position are no longer kept: load the snapshot',
      extra,
    )
  }
  return wireError(409, 'diverged', 'that position is not in the home\u2019s history', extra)
}

/** Frames after `from` up to `to` (inclusive), at most `maxBytes` (but at least one frame). */
async function collect(
  log: Log,
  from: number,
  to: number,
  maxBytes: number,
): Promise<{ frames: Uint8Array[]; chain: string }> {
  const frames: Uint8Array[] = []
  let bytes = 0
  let chain = ''
  for await (const c of log.readEncoded({ from })) {
    if (c.seq > to) break
    frames.push(c.frame)
    chain = c.chain
    bytes += c.frame.byteLength
    if (c.seq === to || bytes >= maxBytes) break
  }
  return { frames, chain }
}

/** GET /v1/users/:user/frames?position=&wait=&max=&cursor= — the live tail (long-poll). */
export async function handleFrames(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  const { user, record } = auth
  let position: LogPosition
  try {
    position = parsePositionText(request.query.position)
  } catch (error) {
    return wireError(400, 'bad-request', `position: ${(error as Error).message}`)
  }
  const wait = Math.min(Math.max(0, Number(request.query.wait ?? 0) || 0), ctx.options.maxWaitMs)
  const max = Math.min(
    Math.max(1, Number(request.query.max ?? 0) || ctx.options.maxResponseBytes),
    ctx.options.maxResponseBytes,
  )
  // A long-poll takes one of the places for tails (per user and per server) while it runs.
  const leave = wait > 0 ? ctx.tails.enter(user) : () => {}
  if (leave === undefined) {
    return wireError(429, 'too-many-tails', 'too many tails are waiting for this user or on this server', {
      retryAfterMs: TAIL_RETRY_AFTER_S * 1000,
    })
  }
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation)).catch((error: unknown) => {
    leave()
    throw error
  })
  if (lease === undefined) {
    leave()
    return wireError(409, 'no-log', 'the home holds no log for this user yet', { head: null })
  }
  try {
    return await tailFrom(ctx, user, lease, position, wait, max, request)
  } finally {
    lease.release()
    leave()
  }
}

async function tailFrom(
  ctx: HomeContext,
  user: string,
  lease: LogLease,
  position: LogPosition,
  wait: number,
  max: number,
  request: WireRequest,
): Promise<WireResponse> {
  const log = lease.log
  const signal = request.signal
  const deadline = ctx.clock.now() + wait
  for (;;) {
    const head = durableOf(ctx, log)
    if (position.logId === log.logId && position.seq === head.seq && position.chain === head.chain) {
      const left = deadline - ctx.clock.now()
      if (left <= 0 || signal.aborted || ctx.shutdown.aborted) return framesAnswer(ctx, [], head)
      await waitForAppend(ctx, user, left, signal)
      // The token may have been rotated while this tail waited: it must still be the user's.
      if (!ctx.meta.authenticate(user, bearer(request))) {
        return wireError(401, 'unauthorized', 'unknown user or wrong token')
      }
      const now = ctx.meta.user(user)
      if (now?.state === 'moved' && now.movedTo !== undefined) return movedAnswer(now.movedTo.home, now.movedTo.epoch)
      continue
    }
    // Never past the next page boundary, so a client that is behind lines up with the cacheable pages.
    const boundary = (Math.floor(position.seq / ctx.options.pageCommits) + 1) * ctx.options.pageCommits
    const cached = recall(log, position, Math.min(head.seq, boundary), max)
    if (cached !== undefined && cached.length > 0) return framesAnswer(ctx, cached, head)
    const relation =
      position.seq > head.seq && position.logId === log.logId ? 'ahead' : await relatePosition(log, position)
    if (relation !== 'behind') return controlFor(log, relation === 'ahead' ? 'diverged' : relation, head)
    try {
      const { frames } = await collect(log, position.seq, Math.min(head.seq, boundary), max)
      return framesAnswer(ctx, frames, head)
    } catch (error) {
      if ((error as { code?: string }).code === 'LOG_NEED_SNAPSHOT') return controlFor(log, 'need-snapshot', head)
      throw error
    }
  }
}

function framesAnswer(ctx: HomeContext, frames: Uint8Array[], head: LogPosition): WireResponse {
  return {
    status: 200,
    headers: {
      'content-type': CONTENT_TYPES.frames,
      ...NO_STORE,
      [HEADERS.head]: formatPosition(head),
      [HEADERS.cursor]: `${ctx.clock.now().toString(36)}${Math.floor(ctx.random.next() * 1e9).toString(36)}`,
    },
    // The frames as they are, one after the other: no copy of up to maxResponseBytes per answer.
    body: frames.length <= 1 ? (frames[0] ?? new Uint8Array()) : sequence(frames),
  }
}

async function* sequence(frames: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* frames
}

/** GET /v1/users/:user/logs/:logId/pages/:page — a sealed page of commits, immutable. */
export async function handlePage(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  const { user, record } = auth
  const page = Number(request.params.page)
  if (!/^\d{1,15}$/.test(request.params.page ?? '')) return wireError(400, 'bad-request', 'page must be an integer')
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  if (lease === undefined) return wireError(409, 'no-log', 'the home holds no log for this user yet', { head: null })
  let streaming = false
  try {
    const log = lease.log
    const head = durableOf(ctx, log)
    const from = page * ctx.options.pageCommits
    const to = from + ctx.options.pageCommits
    if (request.params.logId !== log.logId) return controlFor(log, 'incompatible', head)
    if (to > head.seq) return wireError(409, 'not-sealed', `page ${page} ends after the head (seq ${head.seq})`)
    if (from < log.start.seq) return controlFor(log, 'need-snapshot', head)
    const etag = `"${log.logId}.${page}.${await pageChain(log, page, to)}"`
    const cache = `${ctx.options.publicSegments ? 'public' : 'private'}, max-age=31536000, immutable`
    const headers = { etag, 'cache-control': cache, 'content-type': CONTENT_TYPES.frames }
    if (request.headers['if-none-match'] === etag) return { status: 304, headers }
    // Streamed as the client takes it; the log stays pinned until the body ends or is abandoned.
    streaming = true
    return { status: 200, headers, body: leased(streamPage(log, from, to), () => lease.release()) }
  } catch (error) {
    if ((error as { code?: string }).code === 'LOG_NEED_SNAPSHOT') {
      return wireError(409, 'need-snapshot', 'that page was released: load the snapshot')
    }
    throw error
  } finally {
    if (!streaming) lease.release()
  }
}
