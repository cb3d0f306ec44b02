// The upstream side of the chaos proxy: one client request as an exchange, sending it to the target (streamed, or
// as a buffered copy for a duplicate), and draining answers nobody will read. It decides nothing: the fault comes
// from the schedule, and the answer goes back through chaos-response.ts.
import { type Agent, type ClientRequest, type IncomingMessage, request, type ServerResponse } from 'node:http'
import { pipeline } from 'node:stream'
import type { ChaosClock } from './chaos-clock.js'
import type { Hold } from './chaos-holds.js'
import type { ChaosLimits, Fault, FaultKind, RequestHead } from './chaos-schedule.js'

/** One client request and everything the proxy did for it. */
export interface Exchange {
  readonly head: RequestHead
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly fault: Fault | null
  /** Upstream requests still open for this exchange (a duplicate has two). */
  readonly upstream: Set<ClientRequest>
  /** How many upstream requests were sent. */
  sent: number
  /** Upstream requests go on when the client leaves (the request must take effect: drop-response, partition). */
  detached: boolean
  /** The client's connection closed before its response finished. */
  clientGone: boolean
  /** A `cut` fault fired. */
  cut: boolean
}

/** What the relay needs from the proxy that owns it. */
export interface RelayContext {
  readonly target: { readonly hostname: string; readonly port: number }
  readonly agent: Agent
  readonly limits: ChaosLimits
  readonly clock: ChaosClock
  /** A healable hold of `ms` for `ex`, reported as a `hold` event of `kind`. */
  hold(ex: Exchange, kind: FaultKind, ms: number): Hold
  /** An upstream request of `ex` was just sent. */
  sentUpstream(ex: Exchange, upstream: ClientRequest): void
  /** `ex` got its response head from upstream (releases earlier `reorder` holds). */
  answered(ex: Exchange): void
  /** Bytes queued towards the client after a write. */
  buffered(ex: Exchange, bytes: number): void
  /** The relay of `ex` starts (`true`) or stops (`false`) waiting for the client to drain what it was sent. */
  waitingForClient(ex: Exchange, waiting: boolean): void
}

/** An upstream request and its response head, once it comes. */
export interface Sent {
  readonly request: ClientRequest
  readonly response: Promise<IncomingMessage>
}

const noop = (): void => {}
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Raw headers without the hop-by-hop ones (and those the Connection header names), as [name, value] pairs. */
export function endToEnd(raw: readonly string[]): Array<[string, string]> {
  const named = new Set<string>()
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'connection') continue
    for (const token of (raw[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase())
  }
  const out: Array<[string, string]> = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (!HOP_BY_HOP.has(lower) && !named.has(lower)) out.push([name, raw[i + 1] as string])
  }
  return out
}

/** The request headers to send upstream (Host kept as the client sent it). */
function requestHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of endToEnd(req.rawHeaders)) {
    const prior = out[name]
    out[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value]
  }
  return out
}

/** Resets the client's connection (TCP RST), unless it is already gone. */
export function resetClient(ex: Exchange): void {
  const socket = ex.req.socket
  if (!socket.destroyed) socket.resetAndDestroy()
}

/**
 * Resolves once `ex` has the client connection to itself: at once, unless the previous response on that
 * connection is still being written (a pipelining client, or one that saw that response complete before the proxy
 * finished it). Until then node:http queues the new response without a socket, where no fault can act on it.
 * After the hand-over it waits one turn of the event loop, so the previous answer is on its way before a fault.
 */
export function clientTurn(ex: Exchange): Promise<void> {
  if (ex.res.socket !== null || ex.req.socket.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      ex.res.off('socket', done)
      ex.req.socket.off('close', done)
      setImmediate(resolve)
    }
    ex.res.on('socket', done)
    ex.req.socket.on('close', done)
  })
}

/** Sends `ex` upstream: with `body` (a buffered copy), or streaming the client's body through when it is `null`. */
export function sendUpstream(ctx: RelayContext, ex: Exchange, body: Buffer | null): Sent {
  const upstream = request({
    hostname: ctx.target.hostname,
    port: ctx.target.port,
    method: ex.req.method,
    path: ex.req.url,
    headers: requestHeaders(ex.req),
    agent: ctx.agent,
  })
  upstream.on('error', noop)
  ex.upstream.add(upstream)
  ex.sent++
  upstream.once('close', () => ex.upstream.delete(upstream))
  ctx.sentUpstream(ex, upstream)
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', (res: IncomingMessage) => {
      res.on('error', noop)
      resolve(res)
    })
    upstream.once('error', reject)
    upstream.once('close', () => reject(new Error('upstream closed before its response head')))
  })
  response.catch(noop)
  if (body === null) pipeline(ex.req, upstream, noop)
  else if (body.length > 0) upstream.end(body)
  else upstream.end()
  return { request: upstream, response }
}

/** Reads the client's whole request body (its size was checked against the bound); `null` if the client left. */
export function readBody(ex: Exchange): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    ex.req.on('data', (chunk: Buffer) => chunks.push(chunk))
    ex.req.once('end', () => resolve(Buffer.concat(chunks)))
    ex.req.once('close', () => resolve(ex.req.complete ? Buffer.concat(chunks) : null))
    ex.req.on('error', noop)
  })
}

/**
 * Reads an upstream answer nobody will see to its end, so the request takes full effect; cut after `maxDrainMs`
 * (head and body together). Resolves whether it ended by itself.
 */
export function drain(ctx: RelayContext, sent: Sent): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = ctx.clock.setTimeout(() => {
      sent.request.destroy()
      resolve(false)
    }, ctx.limits.maxDrainMs)
    const finish = (ended: boolean): void => {
      ctx.clock.clearTimeout(timer)
      resolve(ended)
    }
    sent.response.then(
      (res) => {
        res.once('end', () => finish(true))
        res.once('close', () => finish(res.complete))
        res.resume()
      },
      () => finish(false),
    )
  })
}
