// How a client gets the user's token: a string, or a function the client calls again after the home refused the
// token (it was rotated), so a long-running shipper or replica can pick up a new one without being restarted.

/**
 * A user's token, or a function returning the current one. A refused fixed token stops the client with
 * `REPLICATION_AUTH` at once. A function is called once at the start and again after each `401`, with the client's
 * backoff in between (a rotated token can take a moment to reach a mounted secret); once the home has refused
 * what it returns `loopLimit` times in a row (`RetryPolicy`, default 12), the client stops with
 * `REPLICATION_AUTH` (PROTOCOL.md, the shipper's and the replica's state tables).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises'
 * // Read when first needed and again after each 401 (`tokenFile`: a mounted secret, e.g. /run/secrets/alice-token).
 * const shipper = ship(db, { home, user: 'alice', token: async () => (await readFile(tokenFile, 'utf8')).trim() })
 * ```
 */
export type TokenSource = string | (() => string | Promise<string>)

/** Whether `value` is a usable TokenSource (a non-empty string or a function). */
export function isTokenSource(value: unknown): value is TokenSource {
  return (typeof value === 'string' && value !== '') || typeof value === 'function'
}
