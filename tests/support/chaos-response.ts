// The answer side of the chaos proxy: relays an upstream response to the client with backpressure, applying the
// response-side faults on the way (stall, truncate, cut), and picks which of a duplicate's two answers the client
// gets. Every pause is a hold on the proxy's clock, so `heal()` resumes it.
import type { IncomingMessage } from 'node:http'
import type { ExchangeOutcome } from './chaos-events.js'
import type { Fault } from './chaos-schedule.js'
import {
  drain,
  type Exchange,
  endToEnd,
  type RelayContext,
  readBody,
  resetClient,
  type Sent,
  sendUpstream,
} from './chaos-upstream.js'

/** The body length of an upstream answer: 0 when it has none, `null` when unknown (chunked or close-delimited). */
function bodyLength(ex: Exchange, res: IncomingMessage): number | null {
  const status = res.statusCode ?? 0
  if (ex.req.method === 'HEAD' || status === 204 || status === 304 || status < 200) return 0
  if (res.headers['transfer-encoding'] !== undefined) return null
  const n = Number(res.headers['content-length'] ?? Number.NaN)
  return Number.isSafeInteger(n) && n >= 0 ? n : null
}

/** Writes `chunk` to the client; waits for it to drain when its buffer is full. False once the client is gone. */
async function write(ctx: RelayContext, ex: Exchange, chunk: Buffer): Promise<boolean> {
  if (ex.clientGone || ex.cut || ex.res.destroyed) return false
  if (chunk.length === 0) return true
  const ok = ex.res.write(chunk)
  ctx.buffered(ex, ex.res.writableLength)
  if (ok) return true
  ctx.waitingForClient(ex, true)
  return new Promise((resolve) => {
    const done = (drained: boolean) => () => {
      ex.res.off('drain', onDrain)
      ex.res.off('close', onClose)
      ctx.waitingForClient(ex, false)
      resolve(drained)
    }
    const onDrain = done(true)
    const onClose = done(false)
    ex.res.on('drain', onDrain)
    ex.res.on('close', onClose)
  })
}

/** A pending `cut`: `fired` resolves true once both connections were reset, false if it was cancelled or healed. */
interface Cut {
  readonly fired: Promise<boolean>
  cancel(): void
}

/** Starts a `cut` timer at forwarding time: when it elapses, both connections of `ex` are reset. */
function startCut(ctx: RelayContext, ex: Exchange, ms: number): Cut {
  const hold = ctx.hold(ex, 'cut', ms)
  const fired = hold.done.then((end) => {
    if (end !== 'elapsed' || ex.clientGone) return false
    ex.cut = true
    resetClient(ex)
    for (const upstream of ex.upstream) upstream.destroy()
    return true
  })
  return { fired, cancel: hold.release }
}

/**
 * How the body goes through: cut for good at `truncateAt`, or paused at `pauseAt` (`Infinity`: before the end)
 * until `pause` resolves. Points are a fraction of a known length, or a byte count into an unknown one.
 */
interface BodyPlan {
  readonly truncateAt: number | null
  readonly pauseAt: number | null
  readonly pause: () => Promise<unknown>
}

function bodyPlan(
  ctx: RelayContext,
  ex: Exchange,
  fault: Fault | null,
  length: number | null,
  cut: Cut | null,
): BodyPlan {
  const none = { truncateAt: null, pauseAt: null, pause: async () => {} }
  if (cut !== null)
    return { truncateAt: null, pauseAt: length === null ? Infinity : length - 1, pause: () => cut.fired }
  if (fault?.kind !== 'truncate' && (fault?.kind !== 'stall' || fault.at !== 'body' || length === 0)) return none
  const at = length === null ? fault.bytes : Math.floor(fault.fraction * length)
  if (fault.kind === 'truncate') return { ...none, truncateAt: at }
  return { truncateAt: null, pauseAt: at, pause: () => ctx.hold(ex, 'stall', fault.ms).done }
}

/** Pumps the upstream body to the client under `plan`; reading waits while the client's buffer is full. */
async function pump(
  ctx: RelayContext,
  ex: Exchange,
  upstream: IncomingMessage,
  plan: BodyPlan,
): Promise<'ended' | 'truncated' | 'client-gone' | 'broken'> {
  let sent = 0
  let pauseAt = plan.pauseAt
  try {
    for await (const data of upstream) {
      const chunk = data as Buffer
      const end = sent + chunk.length
      if (plan.truncateAt !== null && end >= plan.truncateAt) {
        await write(ctx, ex, chunk.subarray(0, plan.truncateAt - sent))
        return 'truncated'
      }
      let rest = chunk
      if (pauseAt !== null && end > pauseAt) {
        if (!(await write(ctx, ex, chunk.subarray(0, pauseAt - sent)))) return 'client-gone'
        rest = chunk.subarray(pauseAt - sent)
        pauseAt = null
        await plan.pause()
      }
      if (!(await write(ctx, ex, rest))) return 'client-gone'
      sent = end
    }
  } catch {
    return ex.clientGone || ex.cut ? 'client-gone' : 'broken'
  }
  if (pauseAt !== null) await plan.pause()
  if (ex.cut) return 'client-gone'
  return plan.truncateAt !== null ? 'truncated' : 'ended'
}

/** Relays an upstream answer to the client, applying a response-side `fault` (stall, truncate or cut) if given. */
async function relayResponse(
  ctx: RelayContext,
  ex: Exchange,
  sent: Sent,
  upstream: IncomingMessage,
  fault: Fault | null,
  cut: Cut | null,
): Promise<ExchangeOutcome> {
  const length = bodyLength(ex, upstream)
  // A stall "in" an empty body is one before the head: after it the client already holds the whole answer.
  if (fault?.kind === 'stall' && (fault.at === 'head' || length === 0)) await ctx.hold(ex, 'stall', fault.ms).done
  if (cut !== null && length === 0) await cut.fired
  if (fault?.kind === 'truncate' && length === 0) {
    resetClient(ex)
    sent.request.destroy()
    return 'truncated'
  }
  if (ex.cut) return 'cut'
  if (ex.clientGone) return 'client-gone'
  ex.res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage ?? '', endToEnd(upstream.rawHeaders).flat())
  ex.res.flushHeaders()
  const result = await pump(ctx, ex, upstream, bodyPlan(ctx, ex, fault, length, cut))
  cut?.cancel()
  if (ex.cut) return 'cut'
  switch (result) {
    case 'ended':
      ex.res.end()
      return 'answered'
    case 'truncated':
      ex.req.socket.end()
      sent.request.destroy()
      return 'truncated'
    case 'client-gone':
      sent.request.destroy()
      return 'client-gone'
    case 'broken':
      resetClient(ex)
      return 'upstream-error'
  }
}

/**
 * Waits for the response head of `sent` and relays it with `fault`; resets the client if upstream fails. A `cut`
 * starts counting here, so a long-poll that has not answered yet is cut while it waits.
 */
export async function answerWith(
  ctx: RelayContext,
  ex: Exchange,
  sent: Sent,
  fault: Fault | null,
): Promise<ExchangeOutcome> {
  const cut = fault?.kind === 'cut' ? startCut(ctx, ex, fault.ms) : null
  let upstream: IncomingMessage
  try {
    upstream = await sent.response
  } catch {
    cut?.cancel()
    if (ex.cut) return 'cut'
    if (ex.clientGone) return 'client-gone'
    resetClient(ex)
    return 'upstream-error'
  }
  ctx.answered(ex)
  return relayResponse(ctx, ex, sent, upstream, fault, cut)
}

/**
 * Sends `ex` upstream twice with its buffered body: one copy after the other (the second once the first was
 * answered and read) or both at once; the client gets the `answer` copy, the other is drained.
 */
export async function duplicate(
  ctx: RelayContext,
  ex: Exchange,
  fault: Extract<Fault, { kind: 'duplicate' }>,
): Promise<ExchangeOutcome> {
  const body = await readBody(ex)
  if (body === null) return 'client-gone'
  if (fault.mode === 'concurrent') {
    const first = sendUpstream(ctx, ex, body)
    const second = sendUpstream(ctx, ex, body)
    const [kept, other] = fault.answer === 'first' ? [first, second] : [second, first]
    const [outcome] = await Promise.all([answerWith(ctx, ex, kept, null), drain(ctx, other)])
    return outcome
  }
  if (fault.answer === 'first') {
    const outcome = await answerWith(ctx, ex, sendUpstream(ctx, ex, body), null)
    await drain(ctx, sendUpstream(ctx, ex, body))
    return outcome
  }
  await drain(ctx, sendUpstream(ctx, ex, body))
  if (ex.clientGone) return 'client-gone'
  return answerWith(ctx, ex, sendUpstream(ctx, ex, body), null)
}
