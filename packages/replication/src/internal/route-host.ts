// hostRoutes: hosts a route table (the protocol's framework-free Route list) over HTTP with fastify: body limits,
// timeouts, path-parameter schemas, pino logging, JSON error bodies with wire codes, graceful close. The home server
// uses it, and any other service of a deployment with its own route table can be hosted the same way.
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Route, WireErrorCode, WireRequest } from '../wire.js'
import { NO_STORE } from './wire-codec.js'

/** Where and how {@link hostRoutes} listens. */
export interface RouteHostOptions {
  /** TCP port; 0 picks a free one (see `url`). Default 0. */
  readonly port?: number
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Log requests with pino (fastify's logger): `true` for JSON lines on stdout. Default false. */
  readonly logger?: boolean
  /** A request (headers and body) must arrive within this many ms. Default 60 000. */
  readonly requestTimeoutMs?: number
  /** Idle keep-alive connections are closed after this many ms. Default 65 000. */
  readonly keepAliveTimeoutMs?: number
  /**
   * Patterns (regular expression sources) path parameters must match, by parameter name; a request whose parameter
   * does not match is refused with `bad-request` before its handler runs. Default none.
   */
  readonly paramPatterns?: Readonly<Record<string, string>>
}

/** A route table being hosted. */
export interface RouteHost {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  /** Stops accepting requests and closes the listener once in-flight requests are answered. Idempotent. */
  close(): Promise<void>
}

function wireBody(code: WireErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } })
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

function buildApp(routes: readonly Route[], options: RouteHostOptions): FastifyInstance {
  const patterns = options.paramPatterns ?? {}
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 60_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  })
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
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      closing ??= app.close()
      return closing
    },
  }
}
