// How a client gets the user's token: a string, or a function the client calls again after the home refused the
// token (it was rotated), so a long-running shipper or replica can pick up a new one without being restarted.

/**
 * A user's token, or a function returning the current one. A function is called once at the start and again
 * each time the home answers `401`; if it returns the token that was just refused (or throws), the client stops
 * with `REPLICATION_AUTH`.
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
