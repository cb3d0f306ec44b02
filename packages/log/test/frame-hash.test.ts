// The WebAssembly frame hashes (src/internal/frame-hash.ts, wasm/frame-hash.wat) must be the format's hashes, bit
// for bit: CRC32C and xxh64 as the native libraries compute them, for every length on both sides of the switch to
// the native path, every seed, and every frame field. Also pins the committed module to its source: the generated
// src/internal/frame-hash-wasm.ts must be what scripts/build-wasm.mjs makes of wasm/frame-hash.wat today.
import { readFileSync } from 'node:fs'
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { xxh64 as nativeXxh64 } from '@node-rs/xxhash'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain ESM build script, no types of its own
import { compileFrameHash, moduleSource } from '../scripts/build-wasm.mjs'
import { FRAME_HEADER_BYTES, FRAME_OFFSET, FrameType } from '../src/internal/format.js'
import { decodeFrame, encodeFrameAt, frameBuffer } from '../src/internal/frame-codec.js'
import { crc32c, SMALL_PAYLOAD_BYTES, xxh64 } from '../src/internal/frame-hash.js'

const seed = Number(process.env.HOMEDB_SEED ?? Date.now() % 1_000_000)
console.log(`frame-hash property seed ${seed}`)
const params = (numRuns: number) => ({ seed, numRuns })

/** Lengths around every edge the two algorithms have: 4-, 8- and 32-byte steps, and the native switch. */
const lengths = fc.oneof(
  fc.integer({ min: 0, max: 80 }),
  fc.integer({ min: SMALL_PAYLOAD_BYTES - 40, max: SMALL_PAYLOAD_BYTES + 40 }),
  fc.integer({ min: 0, max: 2048 }),
)
const bytesOf = lengths.chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })

/** A frame encoded the reference way: every field written by hand, both hashes native (FORMAT.md › Frame). */
function referenceFrame(
  type: number,
  seq: number,
  prev: bigint,
  payload: Uint8Array,
): { frame: Buffer; chain: bigint } {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + payload.byteLength)
  frame.writeUInt32LE(frame.length - FRAME_OFFSET.type, FRAME_OFFSET.length)
  frame[FRAME_OFFSET.type] = type
  frame.writeUInt32LE(seq % 2 ** 32, FRAME_OFFSET.seq)
  frame.writeUInt32LE(Math.floor(seq / 2 ** 32), FRAME_OFFSET.seq + 4)
  frame.set(payload, FRAME_OFFSET.payload)
  const chain =
    type === FrameType.commit ? BigInt.asUintN(64, nativeXxh64(frame.subarray(FRAME_OFFSET.seq), prev)) : prev
  frame.writeBigUInt64LE(chain, FRAME_OFFSET.chain)
  frame.writeUInt32LE(nativeCrc32c(frame.subarray(FRAME_OFFSET.type)), FRAME_OFFSET.crc)
  return { frame, chain }
}

describe('frame hashes in WebAssembly', () => {
  it('the committed module is what the build script makes of wasm/frame-hash.wat', async () => {
    const source = readFileSync(new URL('../wasm/frame-hash.wat', import.meta.url), 'utf8')
    const generated = readFileSync(new URL('../src/internal/frame-hash-wasm.ts', import.meta.url), 'utf8')
    expect(generated).toBe(moduleSource(await compileFrameHash(source)))
  })

  it('CRC32C equals the native CRC32C for any bytes (seeded property)', () => {
    fc.assert(
      fc.property(bytesOf, (data) => crc32c(data) === nativeCrc32c(data)),
      params(3000),
    )
    // The check value of CRC-32C (RFC 3720 test vectors: 32 zero bytes, 32 bytes of 0xff).
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
  })

  it('xxh64 equals the native xxh64 for any bytes and any seed (seeded property)', () => {
    fc.assert(
      fc.property(bytesOf, u64, (data, s) => xxh64(data, s) === BigInt.asUintN(64, nativeXxh64(data, s))),
      params(3000),
    )
    // The reference value of XXH64 for empty input and seed 0.
    expect(xxh64(new Uint8Array(0), 0n)).toBe(0xef46db3751d8e999n)
  })

  it('a frame encoded in WebAssembly has the bytes of the reference encoding, and decodes (seeded property)', () => {
    const types = fc.constantFrom(FrameType.commit, FrameType.seal, FrameType.marker)
    const seqs = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 32 + 5 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    )
    const payloads = fc
      .integer({ min: 0, max: SMALL_PAYLOAD_BYTES + 64 })
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
    fc.assert(
      fc.property(types, seqs, u64, payloads, fc.integer({ min: 0, max: 64 }), (type, seq, prev, payload, at) => {
        const target = frameBuffer(at + FRAME_HEADER_BYTES + payload.byteLength + 8)
        target.bytes.fill(0xa5)
        const chain = encodeFrameAt(target, at, type, seq, prev, payload)
        const reference = referenceFrame(type, seq, prev, payload)
        const frame = target.bytes.subarray(at, at + reference.frame.length)
        expect(chain).toBe(reference.chain)
        expect(Buffer.compare(frame, reference.frame)).toBe(0)
        // Nothing written outside the frame.
        expect(target.bytes.subarray(0, at).every((b) => b === 0xa5)).toBe(true)
        expect(target.bytes.subarray(at + frame.length).every((b) => b === 0xa5)).toBe(true)
        const decoded = decodeFrame(target.bytes, at, at + frame.length)
        expect(decoded).toMatchObject({ type, seq, chain, size: frame.length })
      }),
      params(2000),
    )
  })
})
