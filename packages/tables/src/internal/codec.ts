// The one msgpackr configuration every commit payload is written and read with. Pinned here and in FORMAT.md:
// changing an option changes what bytes mean, so it is a format change.
import { Packr } from 'msgpackr'
import type { Op } from './opcodes.js'

/**
 * - `useRecords: false`, `sequential: false`, no `structures`: every frame decodes on its own (a replica that starts
 *   from a snapshot has not seen earlier frames). Objects are plain msgpack maps.
 * - `variableMapSize: true`: the smallest map header (fixmap for < 16 keys), standard msgpack.
 * - `moreTypes: false`, `structuredClone: false`: only the types the validator accepts; no shared references.
 * - `useFloat32: 0` (never): every non-integer number is a float64, so numbers round-trip exactly.
 * - `int64AsType: 'bigint'`, `useBigIntExtension: false`, `largeBigIntToFloat: false`: bigints are msgpack int64
 *   and come back as bigints; numbers never turn into bigints (large integers are written as float64).
 * - `encodeUndefinedAsNil: false`: `undefined` inside objects and arrays is msgpackr's fixext1 type 0, and comes back.
 * - `mapsAsObjects: true`: maps decode to plain objects; `copyBuffers: true`: decoded binary values are copies,
 *   so they never pin the frame buffer they were read from.
 */
export const PACKR_OPTIONS = Object.freeze({
  useRecords: false,
  sequential: false,
  variableMapSize: true,
  moreTypes: false,
  structuredClone: false,
  useFloat32: 0,
  int64AsType: 'bigint',
  useBigIntExtension: false,
  largeBigIntToFloat: false,
  encodeUndefinedAsNil: false,
  mapsAsObjects: true,
  copyBuffers: true,
  bundleStrings: false,
} as const)

const packr = new Packr({ ...PACKR_OPTIONS })

/** Encodes a commit payload: the array of operations of one transaction. */
export function encodePayload(ops: readonly Op[]): Uint8Array {
  return packr.pack(ops)
}

/** Encodes any value the validator accepts (snapshot headers). */
export function encodeValue(value: unknown): Uint8Array {
  return packr.pack(value)
}

/** Decodes a commit payload. Throws whatever msgpackr throws on malformed bytes. */
export function decodePayload(payload: Uint8Array): unknown {
  return packr.unpack(payload)
}
