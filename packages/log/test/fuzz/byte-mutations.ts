// Mutations of valid inputs for fuzzing (fast-check): bit flips, cuts, splices and overwritten length fields, and
// the shared checks every fuzz property makes (a broken property throws FuzzViolation; a rejection must be typed).
import fc from 'fast-check'
import { LogError } from '../../src/index.js'

/** One edit of a byte string. `at` and lengths are reduced modulo the input's size when applied. */
export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; drop: number; insert: Uint8Array }
  | { kind: 'u32'; at: number; value: number }
  /** Overwrite a known length/count field (index into the field offsets given to {@link mutate}). */
  | { kind: 'field'; index: number; value: number }
  | { kind: 'zero'; at: number; length: number }
  | { kind: 'copy'; from: number; to: number; length: number }

/** 32-bit values that break length arithmetic: zero, small, just below/above limits, all ones. */
const INTERESTING_U32 = [
  0,
  1,
  7,
  8,
  19,
  20,
  21,
  27,
  28,
  64,
  0x7fff_ffff,
  0x8000_0000,
  0xffff_fffe,
  0xffff_ffff,
  1024 * 1024 * 1024,
  1024 * 1024 * 1024 + 1,
  16 * 1024 * 1024,
  16 * 1024 * 1024 + 1,
]

/** A u32: one of the interesting values, or any. */
export const u32Value = fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffff_ffff }))

/** Any {@link ByteMutation}. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    drop: fc.nat({ max: 64 }),
    insert: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: u32Value }),
  fc.record({ kind: fc.constant('field' as const), index: fc.nat(), value: u32Value }),
  fc.record({ kind: fc.constant('zero' as const), at: fc.nat(), length: fc.nat({ max: 128 }) }),
  fc.record({ kind: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), length: fc.nat({ max: 256 }) }),
)

/** Applies `m` to a copy of `bytes`; `fields` are offsets of length/count fields for `'field'` mutations. */
export function mutate(bytes: Uint8Array, m: ByteMutation, fields: readonly number[] = []): Uint8Array {
  const n = bytes.byteLength
  const out = Buffer.from(bytes)
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return out
      const at = m.at % n
      out[at] = out[at]! ^ (1 << m.bit)
      return out
    }
    case 'truncate':
      return out.subarray(0, m.at % (n + 1))
    case 'splice': {
      const at = m.at % (n + 1)
      return Buffer.concat([out.subarray(0, at), m.insert, out.subarray(Math.min(n, at + m.drop))])
    }
    case 'u32':
    case 'field': {
      const at =
        m.kind === 'field' && fields.length > 0
          ? fields[m.index % fields.length]!
          : (m.kind === 'u32' ? m.at : m.index) % (n + 1)
      const grown = at + 4 > n ? Buffer.concat([out, Buffer.alloc(at + 4 - n)]) : out
      grown.writeUInt32LE(m.value >>> 0, at)
      return grown
    }
    case 'zero': {
      const at = n === 0 ? 0 : m.at % n
      out.fill(0, at, Math.min(n, at + m.length))
      return out
    }
    case 'copy': {
      if (n === 0) return out
      const from = m.from % n
      const to = m.to % n
      const length = Math.min(m.length, n - from, n - to)
      out.copyWithin(to, from, from + length)
      return out
    }
  }
}

/** Thrown when a property is broken (fast-check reports it with its seed and path). */
export class FuzzViolation extends Error {
  override name = 'FuzzViolation'
}

export function violation(message: string): never {
  throw new FuzzViolation(message)
}

/** A rejection must be a typed LogError; anything else (TypeError, RangeError, raw fs error) breaks the property. */
export function expectLogError(error: unknown, what: string): void {
  if (error instanceof FuzzViolation) throw error
  if (!(error instanceof LogError)) {
    violation(
      `${what} threw a non-homedb error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
  }
}
