// Shape checks for operation arguments decoded from the log. Cheap on purpose: replay runs them for every operation.
import type { Key } from '../key.js'

/** True for a value that may be a key or a lookupSet member. */
export function isKey(value: unknown): value is Key {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

/** True for an integer index in `[0, length)`. */
export function isIndex(value: unknown, length: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < length
}
