// hostRoutes: hosts a route table (the protocol's framework-free Route list) over HTTP or HTTPS with fastify:
// body, header and URL limits, timeouts for slow writers and slow readers, path-parameter schemas, pino logging,
// JSON error bodies with wire codes (also for what node refuses before fastify sees a request), graceful close.
// The home server uses it, and any other service of a deployment with its own route table can be hosted the same
// way, with the same limits and TLS.
import type { AddressInfo, Socket } from 'node:net'
import { Readable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ReplicationConfigError } from '../errors.js'
import type { HttpServerOptions } from '../http-server-options.js'
import type { Route, WireErrorCode, WireRequest } from '../wire.js'
import { NO_STORE } from './wire-codec.js'

/** Where and how {@link hostRoutes} listens. */
export interface RouteHostOptions extends HttpServerOptions {
  /**
   * Patterns (regular expression sources) path parameters must match, by parameter name; a request whose parameter
   * does not match is refused with `bad-request` before its handler runs. Default none.
   */
  readonly paramPatterns?: Readonly<Record<string, string>>
}

/** A route table being hosted. */
export interface RouteHost {
  /** `http://host:port` (`https://` with TLS) */
  readonly url: string
  readonly port: number
  /** Stops accepting requests and closes the listener once in-flight requests are answered. Idempotent. */
  close(): Promise<void>
}

interface HostLimits {
  readonly requestTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly sendTimeoutMs: number
  readonly maxHeaderBytes: number
  readonly maxUrlBytes: number
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a positive integer`, { [name]: value })
  }
  return v
}

function limitsOf(options: RouteHostOptions): HostLimits {
  const requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, 60_000)
  return {
    requestTimeoutMs,
    // node refuses a head timeout longer than the whole request's.
    headersTimeoutMs: Math.min(positive('headersTimeoutMs', options.headersTimeoutMs, 10_000), requestTimeoutMs),
    keepAliveTimeoutMs: positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 65_000),
    sendTimeoutMs: positive('sendTimeoutMs', options.sendTimeoutMs, 30_000),
    maxHeaderBytes: positive('maxHeaderBytes', options.maxHeaderBytes, 16_384),
    maxUrlBytes: positive('maxUrlBytes', options.maxUrlBytes, 4_096),
  }
}

function wireBody(code: WireErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } })
}

/**
 * What node refuses before a request reaches fastify (a head over `maxHeaderBytes`, a head or body that did not
 * arrive in time, a malformed request line) gets the protocol's JSON error body too, then the connection closes.
 */
function clientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers-too-large', 'the request head is larger than the server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'timeout', 'the request did not arrive in time']
        : [400, 'bad-request', 'malformed HTTP request']
  const body = wireBody(code as WireErrorCode, message)
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n` +
        `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

/**
 * Cuts a response whose bytes sit in the socket's send buffer for `ms` without it ever emptying: its client stopped
 * reading, or reads too slowly. Streamed bodies wait for the buffer to drain (backpressure), so what one such
 * client pins is bounded by the buffer, and for no longer than this.
 */
function watchSend(response: FastifyReply['raw'], ms: number): void {
  const socket = response.socket
  if (socket === null) return
  let since: number | undefined
  const drained = () => {
    since = undefined
  }
  const timer = setInterval(
    () => {
      if (socket.writableLength === 0) return drained()
      since ??= Date.now()
      if (Date.now() - since >= ms) socket.destroy()
    },
    Math.max(25, Math.floor(ms / 4)),
  )
  timer.unref()
  socket.on('drain', drained)
  response.once('close', () => {
    clearInterval(timer)
    socket.off('drain', drained)
  })
}

function toWireRequest(request: FastifyRequest, reply: FastifyReply): WireRequest {
  const controller = new AbortController()
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort()
  })
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  const url = request.raw.url ?? '/'
  const body = request.body
  return {
    method: request.method,
    remote: request.ip,
    secure: request.protocol === 'https',
    host: request.host,
    path: url.split('?')[0]!,
    params: (request.params ?? {}) as Record<string, string>,
    query: (request.query ?? {}) as Record<string, string>,
    headers,
    body: body === undefined || body === null ? new Uint8Array() : (body as Uint8Array | AsyncIterable<Uint8Array>),
    signal: controller.signal,
  }
}

function paramsSchema(path: string, patterns: Readonly<Record<string, string>>): object | undefined {
  const properties: Record<string, object> = {}
  for (const [name, pattern] of Object.entries(patterns)) {
    if (path.includes(`:${name}`)) properties[name] = { type: 'string', pattern }
  }
  return Object.keys(properties).length === 0 ? undefined : { type: 'object', properties }
}

function register(app: FastifyInstance, route: Route, patterns: Readonly<Record<string, string>>): void {
  const params = paramsSchema(route.path, patterns)
  app.route({
    method: route.method,
    url: route.path,
    ...(route.bodyLimit === undefined ? {} : { bodyLimit: route.bodyLimit }),
    ...(params === undefined ? {} : { schema: { params } }),
    handler: async (request, reply) => {
      const answer = await route.handler(toWireRequest(request, reply))
      reply.code(answer.status).headers(answer.headers)
      const body = answer.body
      if (body === undefined) return reply.send()
      if (body instanceof Uint8Array) return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength))
      return reply.send(Readable.from(body, { objectMode: false }))
    },
  })
}

function createApp(options: RouteHostOptions, limits: HostLimits): FastifyInstance {
  const server = {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    // node checks the two timeouts above on this interval (30 s by default, far too coarse for them).
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  }
  const common = {
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    forceCloseConnections: 'idle' as const,
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
    clientErrorHandler: clientError,
  }
  if (options.tls === undefined) return Fastify({ ...common, http: server }) as unknown as FastifyInstance
  const https = { ...server, cert: Buffer.from(options.tls.cert), key: Buffer.from(options.tls.key) }
  return Fastify({ ...common, https } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance
}

function buildApp(routes: readonly Route[], options: RouteHostOptions): FastifyInstance {
  const patterns = options.paramPatterns ?? {}
  const limits = limitsOf(options)
  const app = createApp(options, limits)
  app.addHook('onRequest', async (request, reply) => {
    if ((request.raw.url ?? '').length <= limits.maxUrlBytes) return
    await reply
      .code(414)
      .headers({ 'content-type': 'application/json; charset=utf-8', ...NO_STORE, connection: 'close' })
      .send(wireBody('url-too-long', `a request URL is at most ${limits.maxUrlBytes} bytes`))
  })
  app.addHook('onSend', async (_request, reply) => watchSend(reply.raw, limits.sendTimeoutMs))
  app.setErrorHandler((error: { statusCode?: number; message: string; validation?: unknown }, _request, reply) => {
    const status = error.statusCode ?? 500
    const code: WireErrorCode =
      status === 413 ? 'too-large' : error.validation ? 'bad-request' : status < 500 ? 'bad-request' : 'internal'
    void reply
      .code(status)
      .headers({ 'content-type': 'application/json; charset=utf-8', ...NO_STORE })
      .send(wireBody(code, error.message))
  })
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .headers({ 'content-type': 'application/json; charset=utf-8', ...NO_STORE })
      .send(wireBody('not-found', `no endpoint ${request.method} ${request.url.split('?')[0]}`))
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  for (const route of routes) {
    if (route.body === 'stream') continue
    register(app, route, patterns)
  }
  // Streamed bodies (snapshot uploads) in their own scope, whose parser hands the request stream over as is.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    for (const route of routes) if (route.body === 'stream') register(scope, route, patterns)
  })
  return app
}

/**
 * Tracks which connections carry a request, so that closing ends every other one: node's `closeIdleConnections`
 * (fastify's `forceCloseConnections: 'idle'`) skips a connection that never sent a request (a browser's preconnect,
 * a client's spare socket), and a keep-alive connection whose answer was in flight at the close stays open after
 * it; either would hold the close until its client or a timeout ends it.
 */
function trackConnections(app: FastifyInstance): { endIdle(): void } {
  const open = new Set<Socket>()
  const busy = new Map<Socket, number>()
  let closing = false
  /** Ends a connection once what was written to it is sent (a client that keeps its side open is cut after 1 s). */
  const finish = (socket: Socket) => {
    socket.end()
    setTimeout(() => socket.destroy(), 1_000).unref()
  }
  app.server.on('connection', (socket: Socket) => {
    open.add(socket)
    socket.once('close', () => {
      open.delete(socket)
      busy.delete(socket)
    })
  })
  app.server.on('request', (request: { socket: Socket }, response: { once(e: 'close', f: () => void): void }) => {
    const socket = request.socket
    busy.set(socket, (busy.get(socket) ?? 0) + 1)
    response.once('close', () => {
      const n = (busy.get(socket) ?? 1) - 1
      if (n > 0) return void busy.set(socket, n)
      busy.delete(socket)
      if (closing) finish(socket)
    })
  })
  return {
    endIdle() {
      closing = true
      for (const socket of open) if (!busy.has(socket)) finish(socket)
    },
  }
}

/**
 * Hosts `routes` over HTTP and resolves once listening.
 *
 * @example
 * ```ts
 * const host = await hostRoutes(service.routes, { port: 0, paramPatterns: { user: '^[a-z0-9]+$' } })
 * console.log(host.url)
 * await host.close()
 * ```
 */
export async function hostRoutes(routes: readonly Route[], options: RouteHostOptions = {}): Promise<RouteHost> {
  const app = buildApp(routes, options)
  const connections = trackConnections(app)
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`,
    port: address.port,
    close() {
      if (closing === undefined) {
        closing = app.close()
        connections.endIdle()
      }
      return closing
    },
  }
}
