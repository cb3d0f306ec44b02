// POST /v1/users/:user/append: compare-and-set on the user's head. Frames that extend the head are verified by the
// log (CRC, seq, chain), appended byte for byte and acknowledged only after fsync; frames already held are
// accepted again without being stored twice (a retry after a lost ack); everything else gets a 4xx with a stable
// code and leaves the stored log untouched (PROTOCOL.md, "Append").
import { type Log, LogError } from '@homedb/log'
import { headPosition, type LogPosition, relatePosition } from '../position.js'
import { HEADERS, type WireRequest, type WireResponse } from '../wire.js'
import { frameHeader, splitFrames } from './frames.js'
import { authUser, type HomeContext, markDurable, userLogDir } from './home-context.js'
import { remember } from './recent-frames.js'
import { writeRefusal } from './user-gate.js'
import { json, parseEpoch, parsePositionText, readBody, wireError } from './wire-codec.js'

interface AppendInput {
  readonly user: string
  readonly expected: LogPosition
  readonly epoch: number
  readonly frames: Uint8Array[]
}

/** Parses and checks an append request; the answer to send if it is malformed. */
async function parseAppend(ctx: HomeContext, request: WireRequest): Promise<AppendInput | WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  let expected: LogPosition
  try {
    expected = parsePositionText(request.headers[HEADERS.position])
  } catch (error) {
    return wireError(400, 'bad-request', `${HEADERS.position}: ${(error as Error).message}`)
  }
  const epoch = parseEpoch(request.headers[HEADERS.epoch])
  if (!Number.isSafeInteger(epoch) || epoch < 1) return wireError(400, 'bad-request', `${HEADERS.epoch} missing or bad`)
  const body = await readBody(request.body, ctx.options.maxAppendBytes)
  if (body === undefined)
    return wireError(413, 'too-large', `an append body is at most ${ctx.options.maxAppendBytes} bytes`)
  let frames: Uint8Array[]
  try {
    frames = splitFrames(body, ctx.options.maxFrameBytes)
  } catch (error) {
    return wireError(400, 'bad-frame', (error as Error).message)
  }
  for (const [i, frame] of frames.entries()) {
    if (frameHeader(frame).seq !== expected.seq + 1 + i) {
      return wireError(400, 'bad-frame', `frame ${i} does not carry seq ${expected.seq + 1 + i}`)
    }
  }
  return { user: auth.user, expected, epoch, frames }
}

/** The append handler. */
export async function handleAppend(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const input = await parseAppend(ctx, request)
  if (!('frames' in input)) return input
  return ctx.mutex.run(input.user, () => appendLocked(ctx, input))
}

async function appendLocked(ctx: HomeContext, input: AppendInput): Promise<WireResponse> {
  const { user, expected } = input
  const record = ctx.meta.user(user)!
  const refused = writeRefusal(record)
  if (refused !== undefined) return refused
  if (input.epoch !== record.epoch) {
    return wireError(409, 'stale-epoch', `this home serves ${user} under homeEpoch ${record.epoch}`, {
      epoch: record.epoch,
    })
  }
  const dir = userLogDir(ctx, user, record.generation)
  let lease = await ctx.cache.acquire(user, dir)
  if (lease === undefined) {
    if (expected.seq !== 0) {
      return wireError(409, 'need-snapshot', 'the home holds no log for this user yet: send a snapshot first', {
        head: null,
      })
    }
    lease = await ctx.cache.acquire(user, dir, {
      logId: expected.logId,
      start: { seq: 0, chain: expected.chain },
    })
  }
  try {
    return await appendTo(ctx, user, lease!.log, input)
  } finally {
    lease!.release()
    if (lease!.log.failure !== undefined) ctx.cache.fail(user, lease!.log.failure)
  }
}

function control(log: Log, status: number, code: 'gap' | 'diverged' | 'incompatible' | 'conflict', message: string) {
  return wireError(status, code, message, { head: headPosition(log), start: { logId: log.logId, ...log.start } })
}

async function appendTo(ctx: HomeContext, user: string, log: Log, input: AppendInput): Promise<WireResponse> {
  const { expected, frames } = input
  if (expected.logId !== log.logId) return control(log, 409, 'incompatible', 'the home holds another log for this user')
  const head = log.head
  let fresh = frames
  if (expected.seq !== head.seq || expected.chain !== head.chain) {
    const relation = await relatePosition(log, expected)
    if (relation === 'ahead') return control(log, 409, 'gap', `the home's head is at seq ${head.seq}`)
    if (relation === 'diverged') return control(log, 409, 'diverged', 'this history does not extend the home\u2019s')
    // Behind the head (a retry, or a writer that did not see the last ack): the frames the home holds already
    // must be the same; the chain of the last of them proves all of them are.
    const held = frames.filter((f) => frameHeader(f).seq <= head.seq)
    const last = held[held.length - 1]
    if (last === undefined) return control(log, 409, 'conflict', `the home's head is at seq ${head.seq}`)
    const same = await relatePosition(log, { logId: log.logId, ...frameHeader(last) })
    if (same === 'diverged') return control(log, 409, 'diverged', 'this history does not extend the home\u2019s')
    if (same !== 'same' && same !== 'behind')
      return control(log, 409, 'conflict', `the home's head is at seq ${head.seq}`)
    fresh = frames.slice(held.length)
  }
  const started = performance.now()
  const before = log.head
  if (fresh.length > 0) {
    try {
      log.appendEncoded(fresh)
    } catch (error) {
      return appendError(error)
    }
  }
  try {
    await log.sync()
  } catch (error) {
    return wireError(500, 'internal', `the home could not make the frames durable: ${(error as Error).message}`)
  }
  if (fresh.length > 0) remember(log, before, fresh)
  markDurable(ctx, user, log)
  if (fresh.length > 0) {
    ctx.onAccepted?.({ user, epoch: input.epoch, logId: log.logId, from: before.seq + 1, to: log.head.seq })
  }
  ctx.metrics.fsyncSeconds.observe((performance.now() - started) / 1000)
  ctx.metrics.appends.inc()
  ctx.metrics.appendCommits.inc(fresh.length)
  ctx.metrics.appendBytes.inc(fresh.reduce((n, f) => n + f.byteLength, 0))
  return json(200, { head: headPosition(log) })
}

function appendError(error: unknown): WireResponse {
  if (error instanceof LogError) {
    if (error.code === 'LOG_FRAME_TOO_LARGE') return wireError(413, 'too-large', error.message)
    if (error.code === 'LOG_BAD_FRAME' || error.code === 'LOG_POSITION_MISMATCH') {
      return wireError(400, 'bad-frame', error.message)
    }
  }
  return wireError(500, 'internal', `append failed: ${(error as Error).message}`)
}
