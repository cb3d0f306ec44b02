// The simulated network's stand-in for the HTTP adapter (packages/replication/src/internal/route-host.ts): it
// serves a protocol core's route table the way fastify does for the real servers — route matching with decoded path
// parameters, parameter patterns and body limits refused before the handler runs, bodies handed over as bytes or (for
// streaming routes) as a stream, a throwing handler turned into `500 internal` — and reads the answer's body into
// bytes, as the bytes that would cross the wire.
import type { Route, WireRequest, WireResponse } from '@homedb/replication'
// The route matching HomeService.handle uses (decoded parameters, an empty one refused), not a copy of it.
import { matchPath } from '../../packages/replication/src/home-service.js'

/** A request as it arrived at the server: the bytes of its body and lower-case headers. */
export interface ServedRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  readonly remote: string
  readonly signal: AbortSignal
}

/** An answer as bytes; `cut` when the body ended with an error (what was read, then the connection broke). */
export interface ServedResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  readonly cut: boolean
}

/** A service the network can reach: its routes, and the patterns its path parameters must match. */
export interface SimService {
  readonly routes: readonly Route[]
  readonly paramPatterns?: Readonly<Record<string, RegExp>>
}

const DEFAULT_BODY_LIMIT = 1024 * 1024
const MAX_ANSWER_BYTES = 256 * 1024 * 1024

function errorAnswer(status: number, code: string, message: string): ServedResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: Buffer.from(JSON.stringify({ error: { code, message } })),
    cut: false,
  }
}

async function collect(body: WireResponse['body']): Promise<{ bytes: Uint8Array; cut: boolean }> {
  if (body === undefined) return { bytes: new Uint8Array(), cut: false }
  if (body instanceof Uint8Array) return { bytes: Uint8Array.from(body), cut: false }
  const parts: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body) {
      parts.push(Buffer.from(chunk))
      total += chunk.byteLength
      if (total > MAX_ANSWER_BYTES) return { bytes: Buffer.concat(parts), cut: true }
    }
  } catch {
    return { bytes: Buffer.concat(parts), cut: true }
  }
  return { bytes: Buffer.concat(parts), cut: false }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (bytes.byteLength > 0) yield bytes
}

function find(service: SimService, method: string, path: string): { route: Route; params: Record<string, string> } {
  for (const route of service.routes) {
    if (route.method !== method) continue
    const params = matchPath(route.path, path)
    if (params !== undefined) return { route, params }
  }
  throw Object.assign(new Error(`no endpoint ${method} ${path}`), { notFound: true })
}

/** Serves one request with `service`'s routes, as the HTTP adapter would. */
export async function serveRequest(service: SimService, request: ServedRequest): Promise<ServedResponse> {
  const path = request.url.pathname
  let found: { route: Route; params: Record<string, string> }
  try {
    found = find(service, request.method, path)
  } catch {
    return errorAnswer(404, 'not-found', `no endpoint ${request.method} ${path}`)
  }
  const { route, params } = found
  for (const [name, pattern] of Object.entries(service.paramPatterns ?? {})) {
    if (params[name] !== undefined && !pattern.test(params[name])) {
      return errorAnswer(400, 'bad-request', `params/${name} must match pattern "${pattern.source}"`)
    }
  }
  const streamed = route.body === 'stream'
  if (!streamed && request.body.byteLength > (route.bodyLimit ?? DEFAULT_BODY_LIMIT)) {
    return errorAnswer(413, 'too-large', 'Request body is too large')
  }
  const wire: WireRequest = {
    method: request.method,
    remote: request.remote,
    path,
    params,
    query: Object.fromEntries(request.url.searchParams),
    headers: request.headers,
    body: streamed ? once(request.body) : request.body,
    signal: request.signal,
  }
  let answer: WireResponse
  try {
    answer = await route.handler(wire)
  } catch (error) {
    return errorAnswer(500, 'internal', (error as Error)?.message ?? String(error))
  }
  const { bytes, cut } = await collect(answer.body)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(answer.headers)) headers[name.toLowerCase()] = String(value)
  return { status: answer.status, headers, body: bytes, cut }
}
