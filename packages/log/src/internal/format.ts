// Byte layout of segment headers, frames and snapshot files (see ../../FORMAT.md), and the chain hash.
// Everything that encodes or decodes on-disk bytes lives here so the rules exist exactly once.
import { crc32c } from '@node-rs/crc32'
import { xxh64 } from '@node-rs/xxhash'

export const FORMAT_VERSION = 1

export const SEGMENT_MAGIC = Buffer.from('HOMEDBLG', 'ascii')
export const SNAPSHOT_MAGIC = Buffer.from('HOMEDBSN', 'ascii')
export const SEGMENT_HEADER_BYTES = 64
export const SNAPSHOT_HEADER_BYTES = 64

export const FRAME_HEADER_BYTES = 28
/** Bytes of a frame's body that precede the payload (type, reserved, chain, seq). */
const BODY_PREFIX = FRAME_HEADER_BYTES - 8
/** Upper bound on any frame body, whatever maxPayloadBytes says: a length above it is damage, never an allocation. */
export const MAX_FRAME_BODY = 1024 * 1024 * 1024

export const FrameType = { commit: 1, seal: 2, marker: 3 } as const
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType]

export const ZERO_CHAIN = 0n
const U64_MASK = (1n << 64n) - 1n

export function chainToHex(chain: bigint): string {
  return chain.toString(16).padStart(16, '0')
}

export function chainFromHex(hex: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(hex))
    throw new TypeError(`chain must be 16 lowercase hex digits, got ${JSON.stringify(hex)}`)
  return BigInt(`0x${hex}`)
}

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % 0x1_0000_0000, offset)
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4)
}

function readU64(buf: Uint8Array, offset: number): number {
  const view = asBuffer(buf)
  return view.readUInt32LE(offset) + view.readUInt32LE(offset + 4) * 0x1_0000_0000
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** chain_n = xxh64(seq_n ‖ payload_n, seed = chain_{n-1}); `seqAndPayload` is the frame body from the seq field on. */
function nextChain(prev: bigint, seqAndPayload: Uint8Array): bigint {
  return xxh64(asBuffer(seqAndPayload), prev) & U64_MASK
}

/**
 * Encodes a frame. For commits the chain is computed from `prevChain`; for seal and marker frames `chain` is
 * the current head chain and the seq is the current head seq (they consume no seq).
 */
export function encodeFrame(
  type: FrameTypeValue,
  seq: number,
  chainOrPrev: bigint,
  payload: Uint8Array,
): { frame: Buffer; chain: bigint } {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength)
  frame.writeUInt32LE(BODY_PREFIX + payload.byteLength, 0)
  frame.writeUInt8(type, 8)
  frame.fill(0, 9, 12)
  writeU64(frame, 20, seq)
  frame.set(payload, FRAME_HEADER_BYTES)
  const chain = type === FrameType.commit ? nextChain(chainOrPrev, frame.subarray(20)) : chainOrPrev
  frame.writeBigUInt64LE(chain, 12)
  frame.writeUInt32LE(crc32c(frame.subarray(8)), 4)
  return { frame, chain }
}

/** Why a frame could not be read at some offset. */
export type FrameProblem = 'eof' | 'zeros' | 'short' | 'length' | 'crc' | 'type'

export interface DecodedFrame {
  type: FrameTypeValue
  seq: number
  chain: bigint
  /** Total bytes of the frame (header + payload). */
  size: number
  /** The payload, a view into the input. */
  payload: Uint8Array
}

/**
 * Decodes the frame starting at `offset` of `buf` (whose valid bytes end at `end`). Checks the length and the CRC;
 * seq and chain continuity are the caller's business (see {@link checkCommit}).
 */
export function decodeFrame(buf: Uint8Array, offset: number, end: number): DecodedFrame | FrameProblem {
  if (offset === end) return 'eof'
  if (end - offset < 8) return allZero(buf, offset, end) ? 'zeros' : 'short'
  const view = asBuffer(buf)
  const bodyLength = view.readUInt32LE(offset)
  if (bodyLength === 0) return allZero(buf, offset, Math.min(end, offset + FRAME_HEADER_BYTES)) ? 'zeros' : 'length'
  if (bodyLength < BODY_PREFIX || bodyLength > MAX_FRAME_BODY) return 'length'
  if (end - offset - 8 < bodyLength) return 'short'
  const body = view.subarray(offset + 8, offset + 8 + bodyLength)
  if (crc32c(body) !== view.readUInt32LE(offset + 4)) return 'crc'
  const type = body[0]
  if (type !== FrameType.commit && type !== FrameType.seal && type !== FrameType.marker) return 'type'
  return {
    type,
    seq: readU64(view, offset + 20),
    chain: view.readBigUInt64LE(offset + 12),
    size: 8 + bodyLength,
    payload: view.subarray(offset + FRAME_HEADER_BYTES, offset + 8 + bodyLength),
  }
}

/** Checks that a decoded commit frame follows (`prevSeq`, `prevChain`). The frame bytes are `buf[offset, offset+size)`. */
export function commitFollows(
  buf: Uint8Array,
  offset: number,
  frame: DecodedFrame,
  prevSeq: number,
  prevChain: bigint,
): 'ok' | 'seq' | 'chain' {
  if (frame.seq !== prevSeq + 1) return 'seq'
  const expected = nextChain(prevChain, buf.subarray(offset + 20, offset + frame.size))
  return expected === frame.chain ? 'ok' : 'chain'
}

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false
  return true
}

/** Payload of a batch marker: the segment offset known durable when the batch was written. */
export function markerPayload(syncedTo: number): Buffer {
  const payload = Buffer.alloc(8)
  writeU64(payload, 0, syncedTo)
  return payload
}

export function readMarker(payload: Uint8Array): number | undefined {
  return payload.byteLength === 8 ? readU64(payload, 0) : undefined
}

export interface SegmentHeader {
  number: number
  logId: string
  /** Position before the first commit of the segment. */
  baseSeq: number
  baseChain: bigint
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES)
  SEGMENT_MAGIC.copy(buf, 0)
  buf.writeUInt16LE(FORMAT_VERSION, 8)
  buf.writeUInt16LE(SEGMENT_HEADER_BYTES, 10)
  buf.writeUInt32LE(h.number, 12)
  Buffer.from(h.logId, 'hex').copy(buf, 16)
  writeU64(buf, 32, h.baseSeq)
  buf.writeBigUInt64LE(h.baseChain, 40)
  buf.writeUInt32LE(crc32c(buf.subarray(0, 60)), 60)
  return buf
}

export type HeaderProblem = 'short' | 'magic' | 'version' | 'crc'

export function decodeSegmentHeader(buf: Uint8Array): SegmentHeader | HeaderProblem {
  if (buf.byteLength < SEGMENT_HEADER_BYTES) return 'short'
  const view = asBuffer(buf)
  if (!view.subarray(0, 8).equals(SEGMENT_MAGIC)) return 'magic'
  if (crc32c(view.subarray(0, 60)) !== view.readUInt32LE(60)) return 'crc'
  if (view.readUInt16LE(8) !== FORMAT_VERSION || view.readUInt16LE(10) !== SEGMENT_HEADER_BYTES) return 'version'
  return {
    number: view.readUInt32LE(12),
    logId: view.subarray(16, 32).toString('hex'),
    baseSeq: readU64(view, 32),
    baseChain: view.readBigUInt64LE(40),
  }
}

export interface SnapshotHeader {
  logId: string
  seq: number
  chain: bigint
}

export function encodeSnapshotHeader(h: SnapshotHeader): Buffer {
  const buf = Buffer.alloc(SNAPSHOT_HEADER_BYTES)
  SNAPSHOT_MAGIC.copy(buf, 0)
  buf.writeUInt16LE(FORMAT_VERSION, 8)
  buf.writeUInt16LE(SNAPSHOT_HEADER_BYTES, 10)
  Buffer.from(h.logId, 'hex').copy(buf, 16)
  writeU64(buf, 32, h.seq)
  buf.writeBigUInt64LE(h.chain, 40)
  buf.writeUInt32LE(crc32c(buf.subarray(0, 60)), 60)
  return buf
}

export function decodeSnapshotHeader(buf: Uint8Array): SnapshotHeader | HeaderProblem {
  if (buf.byteLength < SNAPSHOT_HEADER_BYTES) return 'short'
  const view = asBuffer(buf)
  if (!view.subarray(0, 8).equals(SNAPSHOT_MAGIC)) return 'magic'
  if (crc32c(view.subarray(0, 60)) !== view.readUInt32LE(60)) return 'crc'
  if (view.readUInt16LE(8) !== FORMAT_VERSION || view.readUInt16LE(10) !== SNAPSHOT_HEADER_BYTES) return 'version'
  return { logId: view.subarray(16, 32).toString('hex'), seq: readU64(view, 32), chain: view.readBigUInt64LE(40) }
}

/** Snapshot chunk records: [u32 length][u32 crc32c(data)][data]; the trailer uses length 0xFFFFFFFF. */
export const SNAPSHOT_TRAILER_MARK = 0xffff_ffff
export const SNAPSHOT_RECORD_HEADER = 8
export const SNAPSHOT_TRAILER_BYTES = 24
/** Largest snapshot chunk: bigger chunks are split when written. */
export const MAX_SNAPSHOT_CHUNK = 16 * 1024 * 1024

export function encodeChunkHeader(data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(SNAPSHOT_RECORD_HEADER)
  buf.writeUInt32LE(data.byteLength, 0)
  buf.writeUInt32LE(crc32c(asBuffer(data)), 4)
  return buf
}

export function chunkCrc(data: Uint8Array): number {
  return crc32c(asBuffer(data))
}

/** Trailer: [u32 mark][u32 crc of the next 16 bytes][u64 total payload bytes][u32 chunk count][u32 reserved]. */
export function encodeSnapshotTrailer(totalBytes: number, chunks: number): Buffer {
  const buf = Buffer.alloc(SNAPSHOT_TRAILER_BYTES)
  buf.writeUInt32LE(SNAPSHOT_TRAILER_MARK, 0)
  writeU64(buf, 8, totalBytes)
  buf.writeUInt32LE(chunks, 16)
  buf.writeUInt32LE(crc32c(buf.subarray(8)), 4)
  return buf
}

export function decodeSnapshotTrailer(buf: Uint8Array): { totalBytes: number; chunks: number } | undefined {
  if (buf.byteLength !== SNAPSHOT_TRAILER_BYTES) return undefined
  const view = asBuffer(buf)
  if (view.readUInt32LE(0) !== SNAPSHOT_TRAILER_MARK) return undefined
  if (crc32c(view.subarray(8)) !== view.readUInt32LE(4)) return undefined
  return { totalBytes: readU64(view, 8), chunks: view.readUInt32LE(16) }
}

export const SEGMENT_PREFIX = 'segment-'
export const SEGMENT_SUFFIX = '.log'
export const SNAPSHOT_PREFIX = 'snapshot-'
export const SNAPSHOT_SUFFIX = '.snap'
export const TEMP_SUFFIX = '.tmp'
export const LOCK_FILE = 'LOCK'

export function segmentFileName(number: number): string {
  return `${SEGMENT_PREFIX}${String(number).padStart(8, '0')}${SEGMENT_SUFFIX}`
}

export function snapshotFileName(seq: number): string {
  return `${SNAPSHOT_PREFIX}${String(seq).padStart(16, '0')}${SNAPSHOT_SUFFIX}`
}

// Only the exact names segmentFileName/snapshotFileName produce count: 'segment-000000001.log' parsed as 1 would be
// opened as 'segment-00000001.log' (another file, or none), and numbers past 2^53 would not round-trip.
export function parseSegmentFileName(name: string): number | undefined {
  const m = /^segment-(\d{8,})\.log$/.exec(name)
  const n = m ? Number(m[1]) : Number.NaN
  return Number.isSafeInteger(n) && segmentFileName(n) === name ? n : undefined
}

export function parseSnapshotFileName(name: string): number | undefined {
  const m = /^snapshot-(\d{16,})\.snap$/.exec(name)
  const n = m ? Number(m[1]) : Number.NaN
  return Number.isSafeInteger(n) && snapshotFileName(n) === name ? n : undefined
}
