// The protocol's vocabulary, shared by the home and its clients: request and response shapes independent of any
// HTTP framework, the route table type, header names, content types and the stable wire error codes (PROTOCOL.md).

/** A request as the protocol core sees it: what the fastify adapter builds, and what a simulated network sends. */
export interface WireRequest {
  readonly method: string
  /**
   * The client's address (the socket's peer, or what `X-Forwarded-For` says when the server trusts its proxy);
   * absent when the caller has none (a simulated network). Requests without a token are rate-limited by it.
   */
  readonly remote?: string
  /** The request came over HTTPS (directly, or through a proxy the server trusts); absent or false: plain HTTP. */
  readonly secure?: boolean
  /**
   * The host and port the client addressed (`Host`, or `X-Forwarded-Host` from a trusted proxy); absent when the
   * caller has none. The operator page checks a browser's `Origin` against it.
   */
  readonly host?: string
  /** Path without the query string, e.g. `/v1/users/alice/append`. */
  readonly path: string
  /** Path parameters matched by the route (`:user` → `params.user`). */
  readonly params: Readonly<Record<string, string>>
  readonly query: Readonly<Record<string, string>>
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>
  /** The body: bytes, or a stream for the routes that take one (snapshot uploads). */
  readonly body: Uint8Array | AsyncIterable<Uint8Array>
  /** Fires when the client went away (long-polls stop waiting). */
  readonly signal: AbortSignal
}

/** An answer of the protocol core. */
export interface WireResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** Bytes, a stream of bytes, or nothing. */
  readonly body?: Uint8Array | AsyncIterable<Uint8Array>
}

/** One endpoint: hosted by the fastify adapter, or called directly by a simulated network. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Path pattern with `:name` parameters (the syntax fastify uses). */
  readonly path: string
  /** `'stream'`: the body is handed over as a stream (snapshot uploads); `'bytes'` (default): read whole, bounded. */
  readonly body?: 'bytes' | 'stream'
  /** Largest body accepted, in bytes (the adapter refuses larger ones with `too-large`). */
  readonly bodyLimit?: number
  handler(request: WireRequest): Promise<WireResponse>
}

/** Header names of the protocol. */
export const HEADERS = Object.freeze({
  /** A position `logId:seq:chain` (the writer's expected head, a resume point, a snapshot's position). */
  position: 'homedb-position',
  /** The home's head after the answer, `logId:seq:chain`. */
  head: 'homedb-head',
  /** The `homeEpoch` the writer believes in. */
  epoch: 'homedb-epoch',
  /** Snapshot uploads: the home head the writer saw (`logId:seq:chain` or `none`), for a new base (compare-and-set). */
  replaces: 'homedb-replaces',
  /** Long-poll responses: a token the client echoes as `cursor=` so no cache can answer the next poll. */
  cursor: 'homedb-cursor',
})

/** Content types of the protocol's binary bodies. */
export const CONTENT_TYPES = Object.freeze({
  /** Commit frames back to back, byte for byte as @homedb/log stores them. */
  frames: 'application/vnd.homedb.frames',
  /** A snapshot as chunk records (`u32 length, u32 crc32c, bytes`), ended by `u32 0xFFFFFFFF`. */
  snapshot: 'application/vnd.homedb.snapshot',
  json: 'application/json; charset=utf-8',
})

/** The stable `code` of an error body (`{ "error": { "code", "message", … } }`), one per answer in PROTOCOL.md. */
export type WireErrorCode =
  | 'bad-request'
  | 'bad-frame'
  | 'bad-user-name'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'too-large'
  | 'conflict'
  | 'gap'
  | 'diverged'
  | 'incompatible'
  | 'need-snapshot'
  | 'stale-epoch'
  | 'not-sealed'
  | 'gone'
  | 'no-log'
  | 'user-exists'
  | 'no-user'
  | 'quota'
  | 'rate-limited'
  | 'too-many-tails'
  | 'headers-too-large'
  | 'url-too-long'
  | 'timeout'
  | 'unavailable'
  | 'internal'
  | 'moved'
  | 'busy'
  | 'unknown-user'
  | 'move-conflict'

/** Every wire error code (PROTOCOL.md lists what each means and which endpoints answer it). */
export const WIRE_ERROR_CODES: readonly WireErrorCode[] = [
  'bad-request',
  'bad-frame',
  'bad-user-name',
  'unauthorized',
  'forbidden',
  'not-found',
  'too-large',
  'conflict',
  'gap',
  'diverged',
  'incompatible',
  'need-snapshot',
  'stale-epoch',
  'not-sealed',
  'gone',
  'no-log',
  'user-exists',
  'no-user',
  'quota',
  'rate-limited',
  'too-many-tails',
  'headers-too-large',
  'url-too-long',
  'timeout',
  'unavailable',
  'internal',
  'moved',
  'busy',
  'unknown-user',
  'move-conflict',
]
