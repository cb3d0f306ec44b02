// The two hashes of a frame (FORMAT.md › Frame: CRC32C of the body, xxh64 chain of seq and payload), computed where
// they cost least. The native libraries (@node-rs/crc32 with the CPU's CRC32C instruction, @node-rs/xxhash) are fast
// per byte but each call crosses N-API, about 100 ns whatever the size; for the small frames most commits are, that
// crossing was most of an append's cost. Frames of up to SMALL_PAYLOAD_BYTES of payload are hashed by a WebAssembly
// module instead (wasm/frame-hash.wat: slice-by-8 CRC32C and xxh64, one call per frame, a few ns to enter), in a
// scratch area of its memory; larger ones keep the native path, which is faster per byte. Both give the same bytes:
// test/frame-hash.test.ts compares them on random inputs, and every read checks what every write computed.
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { xxh64 as nativeXxh64 } from '@node-rs/xxhash'
import { FRAME_HEADER_BYTES } from './format.js'
import { FRAME_HASH_WASM } from './frame-hash-wasm.js'

/** Payloads up to this size are hashed in WebAssembly (one frame costs the same both ways at ~500 bytes here). */
export const SMALL_PAYLOAD_BYTES = 384
/** Where a frame is built in the module's memory (after the CRC tables; the memory is one 64 KiB page). */
const SCRATCH = 8192
/** CRC32C (Castagnoli), reflected. */
const CRC32C_POLY = 0x82f63b78

/** The part of the WebAssembly JS API used here (TypeScript types it only in the DOM library, not loaded here). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { readonly exports: object }
}

interface FrameHashExports {
  readonly memory: { readonly buffer: ArrayBuffer }
  xxh64(at: number, length: number, seed: bigint): bigint
  crc32c(at: number, length: number): number
  encode(type: number, seqLow: number, seqHigh: number, prev: bigint, payloadBytes: number): bigint
}

/** Compiles the module (under a KiB: synchronous is fine) and fills its slice-by-8 tables. */
function load(): { exports: FrameHashExports; bytes: Uint8Array; buffer: Buffer } {
  const module = new WebAssembly.Module(Buffer.from(FRAME_HASH_WASM, 'base64'))
  const exports = new WebAssembly.Instance(module).exports as unknown as FrameHashExports
  const tables = new Int32Array(exports.memory.buffer, 0, 8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1
    tables[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!
    for (let k = 1; k < 8; k++) {
      c = tables[c & 255]! ^ (c >>> 8)
      tables[k * 256 + n] = c
    }
  }
  const memory = exports.memory.buffer
  return { exports, bytes: new Uint8Array(memory), buffer: Buffer.from(memory) }
}

const wasm = load()

/** CRC32C of `data`. */
export function crc32c(data: Uint8Array): number {
  if (data.byteLength > SMALL_PAYLOAD_BYTES) return nativeCrc32c(data)
  wasm.bytes.set(data, SCRATCH)
  return wasm.exports.crc32c(SCRATCH, data.byteLength) >>> 0
}

/** xxh64 of `data` with `seed`, as an unsigned 64-bit value. */
export function xxh64(data: Uint8Array, seed: bigint): bigint {
  if (data.byteLength > SMALL_PAYLOAD_BYTES) return BigInt.asUintN(64, nativeXxh64(data, seed))
  wasm.bytes.set(data, SCRATCH)
  return BigInt.asUintN(64, wasm.exports.xxh64(SCRATCH, data.byteLength, seed))
}

/**
 * Encodes a frame with a payload of at most {@link SMALL_PAYLOAD_BYTES} into `target` at `offset` (which must have
 * room for the header and payload) in one call into the module: length, CRC32C, type, chain and seq, as
 * FORMAT.md › Frame lays them out. Returns the chain after it: for commits (`type` 1) xxh64 of seq and payload
 * seeded with `chainOrPrev`, for other frames `chainOrPrev` itself.
 */
export function encodeSmallFrameAt(
  target: Buffer,
  offset: number,
  type: number,
  seq: number,
  chainOrPrev: bigint,
  payload: Uint8Array,
): bigint {
  const n = payload.byteLength
  wasm.bytes.set(payload, SCRATCH + FRAME_HEADER_BYTES)
  const chain = wasm.exports.encode(type, seq % 0x1_0000_0000, Math.floor(seq / 0x1_0000_0000), chainOrPrev, n)
  wasm.buffer.copy(target, offset, SCRATCH, SCRATCH + FRAME_HEADER_BYTES + n)
  return BigInt.asUintN(64, chain)
}
