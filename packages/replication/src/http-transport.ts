// The default transport: node:http(s) with keep-alive agents (internal/node-transport.ts). Kept apart from the
// Transport interface (transport.ts) that the implementation imports, so neither imports the other back.
import { createNodeTransport } from './internal/node-transport.js'
import type { Transport } from './transport.js'

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
