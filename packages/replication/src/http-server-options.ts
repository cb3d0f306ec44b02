// How a homedb HTTP server listens and what it tolerates from a connection before the protocol sees a request:
// address, TLS, header and URL sizes, the timeouts that cut slow writers (slowloris) and slow readers, and which
// proxy headers are trusted. The home server takes these; any other service hosted the same way can too.

/** A certificate and its private key (PEM), for HTTPS. */
export interface TlsOptions {
  /** The server's certificate chain, PEM. */
  readonly cert: string | Uint8Array
  /** Its private key, PEM. */
  readonly key: string | Uint8Array
}

/** Where and how to listen (defaults in PROTOCOL.md, "Limits"). */
export interface HttpServerOptions {
  /** TCP port; 0 picks a free one (see `server.url`). Default 0. */
  readonly port?: number
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** Log requests with pino (fastify's logger): `true` for JSON lines on stdout. Default false. */
  readonly logger?: boolean
  /** Serve HTTPS with this certificate and key (the URL becomes `https://…`). Default: plain HTTP. */
  readonly tls?: TlsOptions
  /** A request's head and body must have arrived within this many ms (`408 timeout`). Default 60 000. */
  readonly requestTimeoutMs?: number
  /** A request's head must have arrived within this many ms (slowloris headers; `408 timeout`). Default 10 000. */
  readonly headersTimeoutMs?: number
  /** Idle keep-alive connections are closed after this many ms. Default 65 000. */
  readonly keepAliveTimeoutMs?: number
  /**
   * A response whose bytes the client has not taken for this many ms (it stopped reading, or reads too slowly to
   * empty the server's send buffer) is cut. Default 30 000.
   */
  readonly sendTimeoutMs?: number
  /** Largest request head (request line and headers), bytes (`431 headers-too-large`). Default 16 384. */
  readonly maxHeaderBytes?: number
  /** Longest request URL (path and query), bytes (`414 url-too-long`). Default 4 096. */
  readonly maxUrlBytes?: number
  /**
   * Trust `X-Forwarded-For`/`-Proto`/`-Host` from a reverse proxy: `true` (from any peer), or the proxy
   * addresses (comma-separated IPs/CIDRs, e.g. `'127.0.0.1,10.0.0.0/8'`). Default false: those headers are ignored
   * and the client address is the socket's peer.
   */
  readonly trustProxy?: boolean | string
}
