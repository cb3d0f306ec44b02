// Randomness as the replication code sees it (backoff jitter, slot names, generated tokens, the server secret),
// behind an interface so a seeded simulation can replay a run exactly.
import { randomBytes } from 'node:crypto'

/** A source of randomness. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** `length` random bytes. Tokens and secrets come from here: the default uses the OS's CSPRNG. */
  bytes(length: number): Uint8Array
}

/**
 * Randomness from `node:crypto` (`randomBytes`), suitable for tokens and secrets.
 *
 * @example
 * ```ts
 * const hex = Buffer.from(cryptoRandom.bytes(16)).toString('hex')
 * console.log(hex.length) // -> 32
 * ```
 */
export const cryptoRandom: Random = {
  next: () => randomBytes(4).readUInt32LE(0) / 4294967296,
  bytes: (length) => new Uint8Array(randomBytes(length)),
}
