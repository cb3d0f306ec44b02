// How clients reach a home: one request, one response with a streamed body. The default is node:http(s) with
// keep-alive; tests and the simulation pass their own (issue 18 routes requests straight to a HomeService).
import { createNodeTransport } from './internal/node-transport.js'

/** A request as a client makes it. */
export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Absolute URL (`http://host:port/v1/...`). */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Bytes, or a stream of bytes (snapshot uploads). */
  readonly body?: Uint8Array | AsyncIterable<Uint8Array>
  /** Aborts the request (and the response body) when it fires. */
  readonly signal?: AbortSignal
}

/** The answer: status, lower-case headers and the body as a stream. */
export interface TransportResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: AsyncIterable<Uint8Array>
}

/** Sends requests. Implementations must reject (never hang) when the connection fails or `signal` aborts. */
export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>
  /** Releases pooled connections. */
  close?(): void
}

/** Options of {@link httpTransport}. */
export interface HttpTransportOptions {
  /** Sockets kept per host (default 16). */
  readonly maxSockets?: number
  /** Longest time to wait for the response headers of a request that is not a long-poll, in ms (default 30 000). */
  readonly timeoutMs?: number
  /**
   * Certificate authorities (PEM) trusted for `https://` homes, instead of node's built-in list: for a home whose
   * certificate a private CA signed. Default: node's list.
   */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[]
}

/**
 * The default transport: `node:http` / `node:https` with keep-alive agents.
 *
 * @example
 * ```ts check
 * import { readFileSync } from 'node:fs'
 * const transport = httpTransport({ maxSockets: 4, ca: readFileSync('ca.pem') })
 * const shipper = ship(db, { home: 'https://home.example:7100', user, token, transport })
 * ```
 */
export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const ca = options.ca === undefined ? undefined : ([] as (string | Uint8Array)[]).concat(options.ca)
  return createNodeTransport(options.maxSockets ?? 16, options.timeoutMs ?? 30_000, ca)
}
