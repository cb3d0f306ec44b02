// Fuzz properties (fast-check) of the decoders of untrusted bytes in @homedb/log: frames, segment and snapshot
// headers, snapshot trailers, lock files and whole snapshot files. White-box: they call the internal decoders.
import { SimFs, seededRng } from '@homedb/testkit'
import fc from 'fast-check'
import {
  decodeSegmentHeader,
  decodeSnapshotHeader,
  decodeSnapshotTrailer,
  encodeChunkHeader,
  encodeSegmentHeader,
  encodeSnapshotHeader,
  encodeSnapshotTrailer,
  FRAME_HEADER_BYTES,
  FrameType,
  type FrameTypeValue,
} from '../../src/internal/format.js'
import { decodeFrame, encodeFrame } from '../../src/internal/frame-codec.js'
import { parseLockFile } from '../../src/internal/lock.js'
import { checkSnapshotFile } from '../../src/internal/snapshot-file.js'
import { byteMutation, mutate, u32Value, violation } from './byte-mutations.js'

const FRAME_PROBLEMS = new Set(['eof', 'zeros', 'short', 'length', 'crc', 'type'])
const HEADER_PROBLEMS = new Set(['short', 'magic', 'version', 'crc'])

function checkFrameResult(result: ReturnType<typeof decodeFrame>, offset: number, end: number): void {
  if (typeof result === 'string') {
    if (!FRAME_PROBLEMS.has(result)) violation(`decodeFrame returned an unknown problem ${result}`)
    return
  }
  if (result.size < FRAME_HEADER_BYTES || offset + result.size > end) {
    violation(`decodeFrame returned a frame of ${result.size} bytes at ${offset} past the end ${end}`)
  }
  if (result.payload.byteLength !== result.size - FRAME_HEADER_BYTES) violation('decodeFrame payload length mismatch')
  if (![FrameType.commit, FrameType.seal, FrameType.marker].includes(result.type)) violation('decodeFrame bad type')
}

const frameArb = fc.record({
  type: fc.constantFrom<FrameTypeValue>(FrameType.commit, FrameType.seal, FrameType.marker),
  seq: fc.nat({ max: 2 ** 40 }),
  chain: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  payload: fc.uint8Array({ maxLength: 300 }),
})

/** Properties of the frame decoder. */
export function frameProperties() {
  return {
    arbitraryBytes: fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const offset = a % (bytes.byteLength + 1)
      const end = offset + (b % (bytes.byteLength - offset + 1))
      checkFrameResult(decodeFrame(bytes, offset, end), offset, end)
    }),
    roundTrip: fc.property(frameArb, (f) => {
      const { frame, chain } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      const decoded = decodeFrame(frame, 0, frame.byteLength)
      if (typeof decoded === 'string') violation(`a valid frame decodes as ${decoded}`)
      if (decoded.seq !== f.seq || decoded.chain !== chain || decoded.size !== frame.byteLength) violation('round trip')
      if (Buffer.compare(decoded.payload, f.payload) !== 0) violation('round trip payload')
    }),
    singleBitFlipIsDetected: fc.property(frameArb, fc.nat(), fc.nat({ max: 7 }), (f, at, bit) => {
      const { frame } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      const damaged = mutate(frame, { kind: 'flip', at, bit })
      const decoded = decodeFrame(damaged, 0, damaged.byteLength)
      if (typeof decoded !== 'string')
        violation(`a frame with bit ${bit} of byte ${at % frame.byteLength} flipped decoded`)
    }),
    mutationsNeverForge: fc.property(frameArb, fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (f, ms) => {
      const { frame } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      let damaged: Uint8Array = frame
      for (const m of ms) damaged = mutate(damaged, m, [0, 4])
      const decoded = decodeFrame(damaged, 0, damaged.byteLength)
      checkFrameResult(decoded, 0, damaged.byteLength)
      // Anything that still decodes must be the original frame, byte for byte (CRC32C).
      if (typeof decoded !== 'string' && Buffer.compare(damaged.subarray(0, decoded.size), frame) !== 0) {
        violation('a mutated frame decoded as a different valid frame')
      }
    }),
    hugeLengthsAreDamage: fc.property(frameArb, u32Value, (f, length) => {
      const { frame } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      const damaged = Buffer.from(frame)
      damaged.writeUInt32LE(length >>> 0, 0)
      const decoded = decodeFrame(damaged, 0, damaged.byteLength)
      if (length > damaged.byteLength - 8 && typeof decoded !== 'string') violation('a length past the end decoded')
    }),
  }
}

const headerArb = fc.record({
  number: fc.nat({ max: 0xffff_ffff }),
  logId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  baseSeq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  baseChain: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
})

/** Properties of the segment and snapshot header decoders and the snapshot trailer decoder. */
export function headerProperties() {
  return {
    segmentArbitrary: fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
      const result = decodeSegmentHeader(bytes)
      if (typeof result === 'string' && !HEADER_PROBLEMS.has(result)) violation(`unknown problem ${result}`)
    }),
    segmentRoundTripAndFlips: fc.property(headerArb, fc.nat(), fc.nat({ max: 7 }), (h, at, bit) => {
      const bytes = encodeSegmentHeader(h)
      const decoded = decodeSegmentHeader(bytes)
      if (typeof decoded === 'string') violation(`a valid segment header decodes as ${decoded}`)
      if (decoded.number !== h.number || decoded.logId !== h.logId || decoded.baseSeq !== h.baseSeq) violation('trip')
      if (decoded.baseChain !== h.baseChain) violation('segment header chain round trip')
      if (typeof decodeSegmentHeader(mutate(bytes, { kind: 'flip', at: at % 64, bit })) !== 'string') {
        violation('a segment header with a flipped bit decoded')
      }
    }),
    segmentMutations: fc.property(headerArb, fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (h, ms) => {
      let bytes: Uint8Array = encodeSegmentHeader(h)
      for (const m of ms) bytes = mutate(bytes, m, [8, 10, 12, 60])
      const result = decodeSegmentHeader(bytes)
      if (typeof result === 'string' && !HEADER_PROBLEMS.has(result)) violation(`unknown problem ${result}`)
    }),
    snapshotHeaderArbitrary: fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
      const result = decodeSnapshotHeader(bytes)
      if (typeof result === 'string' && !HEADER_PROBLEMS.has(result)) violation(`unknown problem ${result}`)
    }),
    snapshotHeaderFlips: fc.property(headerArb, fc.nat(), fc.nat({ max: 7 }), (h, at, bit) => {
      const bytes = encodeSnapshotHeader({ logId: h.logId, seq: h.baseSeq, chain: h.baseChain })
      const decoded = decodeSnapshotHeader(bytes)
      if (typeof decoded === 'string' || decoded.seq !== h.baseSeq || decoded.chain !== h.baseChain) violation('trip')
      if (typeof decodeSnapshotHeader(mutate(bytes, { kind: 'flip', at: at % 64, bit })) !== 'string') {
        violation('a snapshot header with a flipped bit decoded')
      }
    }),
    trailerArbitrary: fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
      const result = decodeSnapshotTrailer(bytes)
      if (result !== undefined && (!Number.isFinite(result.totalBytes) || !Number.isInteger(result.chunks))) {
        violation('trailer decoded to nonsense')
      }
    }),
    trailerFlips: fc.property(
      fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      fc.nat({ max: 0xffff_ffff }),
      fc.nat(),
      fc.nat({ max: 7 }),
      (total, chunks, at, bit) => {
        const bytes = encodeSnapshotTrailer(total, chunks)
        const decoded = decodeSnapshotTrailer(bytes)
        if (!decoded || decoded.totalBytes !== total || decoded.chunks !== chunks) violation('trailer round trip')
        // Bytes 20..23 are reserved and outside the CRC: a flip there may decode, to the same values.
        const flipped = decodeSnapshotTrailer(mutate(bytes, { kind: 'flip', at: at % 24, bit }))
        if (flipped && (flipped.totalBytes !== total || flipped.chunks !== chunks))
          violation('a flipped trailer decoded')
      },
    ),
  }
}

/** Bytes that look like lock files: arbitrary bytes, arbitrary JSON, lock-shaped objects with wrong types, deep nesting. */
export const lockBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record({
      pid: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.constant(2 ** 60)),
      startTime: fc.oneof(fc.integer(), fc.constant(null), fc.string(), fc.boolean()),
      hostname: fc.oneof(fc.string(), fc.integer()),
      acquiredAt: fc.oneof(fc.string(), fc.constant(null)),
    })
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.nat({ max: 5000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.nat({ max: 5000 }).map((n) => Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
)

/** Properties of the lock file parser. */
export function lockProperties() {
  return {
    neverThrows: fc.property(lockBytes, (bytes) => {
      const holder = parseLockFile(bytes)
      if (holder === undefined) return
      if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) violation(`lock parsed with pid ${holder.pid}`)
      if (holder.startTime !== null && typeof holder.startTime !== 'number') violation('lock startTime type')
      if (typeof holder.hostname !== 'string' || typeof holder.acquiredAt !== 'string') violation('lock field types')
    }),
  }
}

const LOG_ID = '00112233445566778899aabbccddeeff'
const DIR = '/db/log'

/** A valid snapshot file's bytes for the given chunks. */
function snapshotFileBytes(seq: number, chain: bigint, chunks: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [encodeSnapshotHeader({ logId: LOG_ID, seq, chain })]
  let total = 0
  for (const c of chunks) {
    parts.push(encodeChunkHeader(c), c)
    total += c.byteLength
  }
  parts.push(encodeSnapshotTrailer(total, chunks.length))
  return Buffer.concat(parts)
}

/** Offsets of the length fields of a snapshot file made of `chunks` (chunk lengths, then the trailer's fields). */
function snapshotFields(chunks: readonly Uint8Array[]): number[] {
  const fields: number[] = []
  let at = 64
  for (const c of chunks) {
    fields.push(at)
    at += 8 + c.byteLength
  }
  fields.push(at, at + 8, at + 16)
  return fields
}

/** Properties of the whole-file snapshot check (what `latestSnapshot()` and `verifyLog` rely on). */
export function snapshotFileProperties() {
  const chunksArb = fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 5 })
  return {
    mutatedFiles: fc.asyncProperty(
      chunksArb,
      fc.array(byteMutation, { minLength: 1, maxLength: 4 }),
      async (chunks, ms) => {
        const original = snapshotFileBytes(7, 42n, chunks)
        let bytes = original
        for (const m of ms) bytes = mutate(bytes, m, snapshotFields(chunks))
        const path = `${DIR}/snapshot-0000000000000007.snap`
        const fs = SimFs.withFiles(seededRng(1), new Map([[path, bytes]]), { maxPause: 0 })
        const result = await checkSnapshotFile(fs, path)
        if (fs.counters.maxReadLength > Math.max(64, bytes.byteLength)) {
          violation(`checking a ${bytes.byteLength}-byte snapshot read into a ${fs.counters.maxReadLength}-byte buffer`)
        }
        if ('problem' in result) return
        // Anything accepted is the original file, except perhaps the trailer's 4 reserved bytes (outside every CRC).
        const same =
          bytes.byteLength === original.byteLength &&
          Buffer.compare(bytes.subarray(0, bytes.byteLength - 4), original.subarray(0, original.byteLength - 4)) === 0
        if (!same) violation('a damaged snapshot file was accepted as complete')
        if (result.header.seq !== 7 || result.header.chain !== 42n || result.chunks !== chunks.length) {
          violation('an accepted snapshot file decoded to other values')
        }
      },
    ),
  }
}
