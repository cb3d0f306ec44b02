// startHomeServer: the home's HTTP server. Fastify hosts the protocol core's route table (body limits, timeouts,
// parameter schemas, pino logging, graceful close); everything the protocol decides stays in HomeService.
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { HomeService, type HomeServiceOptions } from './home-service.js'
import { NO_STORE } from './internal/wire-codec.js'
import type { Route, WireErrorCode, WireRequest } from './wire.js'

/** Options of {@link startHomeServer}: the HomeService options plus where and how to listen. */
export interface HomeServerOptions extends HomeServiceOptions {
  /** TCP port; 0 picks a free one (see `server.url`). Default 0. */
  readonly port?: number
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Log requests with pino (fastify's logger): `true` for JSON lines on stdout. Default false. */
  readonly logger?: boolean
  /** A request (headers and body) must arrive within this many ms. Default 60 000. */
  readonly requestTimeoutMs?: number
  /** Idle keep-alive connections are closed after this many ms. Default 65 000. */
  readonly keepAliveTimeoutMs?: number
}

/** A running home server. */
export interface HomeServer {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  /** The protocol core behind it. */
  readonly service: HomeService
  /** Adds a user (see {@link HomeService.addUser}); resolves with its token. */
  addUser(name: string, options?: { token?: string }): Promise<string>
  /** Stops accepting requests, finishes in-flight appends, closes every log. Idempotent. */
  close(): Promise<void>
}

const USER_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$'

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

function register(app: FastifyInstance, route: Route): void {
  const params = route.path.includes(':user')
    ? { type: 'object', properties: { user: { type: 'string', pattern: USER_PATTERN } } }
    : undefined
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

function buildApp(service: HomeService, options: HomeServerOptions): FastifyInstance {
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
  for (const route of service.routes) {
    if (route.body === 'stream') continue
    register(app, route)
  }
  // Streamed bodies (snapshot uploads) in their own scope, whose parser hands the request stream over as is.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    for (const route of service.routes) if (route.body === 'stream') register(scope, route)
  })
  return app
}

/**
 * Starts a home server: opens the data dir and listens.
 *
 * @example
 * ```ts
 * import { startHomeServer } from '@homedb/replication'
 * const server = await startHomeServer({ dataDir: './home', port: 0, host: '127.0.0.1', adminToken })
 * const token = await server.addUser('alice')
 * console.log(server.url)
 * await server.close()
 * ```
 */
export async function startHomeServer(options: HomeServerOptions): Promise<HomeServer> {
  const service = await HomeService.open(options)
  const app = buildApp(service, options)
  try {
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  } catch (error) {
    await service.close()
    throw error
  }
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    service,
    addUser: (name, opts) => service.addUser(name, opts),
    close() {
      closing ??= (async () => {
        await service.close()
        await app.close()
      })()
      return closing
    },
  }
}
