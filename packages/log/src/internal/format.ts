// Byte layout of segment headers, frames and snapshot files (see ../../FORMAT.md): the offset tables FORMAT.md prints,
// field for field, the header and snapshot codecs and the file names. Frames themselves (encoding, decoding, the
// chain hash) are in frame-codec.ts, which takes its offsets from here: every rule about bytes exists exactly once.
import { randomBytes } from 'node:crypto'
import { crc32c } from '@node-rs/crc32'

/** The format version every header carries (FORMAT.md describes version 1). */
export const FORMAT_VERSION = 1

/** First 8 bytes of every segment file. */
export const SEGMENT_MAGIC = Buffer.from('HOMEDBLG', 'ascii')
/** First 8 bytes of every snapshot file. */
export const SNAPSHOT_MAGIC = Buffer.from('HOMEDBSN', 'ascii')

// The offset tables are frozen: their fields are then constants to the JIT, as fast as the literals they name.

/** FORMAT.md › Segment header: byte offsets of each field (64 bytes in all). */
export const SEGMENT_HEADER_OFFSET = Object.freeze({
  magic: 0,
  version: 8,
  headerSize: 10,
  number: 12,
  logId: 16,
  baseSeq: 32,
  baseChain: 40,
  reserved: 48,
  crc: 60,
} as const)
/** Size of a segment header: a segment's first frame starts here. */
export const SEGMENT_HEADER_BYTES = 64

/** FORMAT.md › Frame: byte offsets of each field. The body (what the CRC covers) starts at `type`. */
export const FRAME_OFFSET = Object.freeze({
  length: 0,
  crc: 4,
  type: 8,
  reserved: 9,
  chain: 12,
  seq: 20,
  payload: 28,
} as const)
/** Bytes before a frame's payload. */
export const FRAME_HEADER_BYTES = FRAME_OFFSET.payload
/** Bytes before a frame's body (length and CRC): a frame is `FRAME_PREFIX_BYTES + body length` bytes long. */
export const FRAME_PREFIX_BYTES = FRAME_OFFSET.type
/** Bytes of a frame's body that precede the payload (type, reserved, chain, seq): the smallest valid body length. */
export const FRAME_BODY_MIN = FRAME_HEADER_BYTES - FRAME_PREFIX_BYTES
/** Upper bound on any frame body, whatever maxPayloadBytes says: a length above it is damage, never an allocation. */
export const MAX_FRAME_BODY = 1024 * 1024 * 1024

/** FORMAT.md › Snapshot file: byte offsets of the header's fields (64 bytes in all). */
export const SNAPSHOT_HEADER_OFFSET = Object.freeze({
  magic: 0,
  version: 8,
  headerSize: 10,
  logId: 16,
  seq: 32,
  chain: 40,
  crc: 60,
} as const)
/** Size of a snapshot header: the first chunk record starts here. */
export const SNAPSHOT_HEADER_BYTES = 64
/** FORMAT.md › Snapshot file: a chunk record is `[u32 length][u32 crc32c(data)][data]`. */
export const SNAPSHOT_RECORD_OFFSET = Object.freeze({ length: 0, crc: 4, data: 8 } as const)
/** Bytes before a chunk's data. */
export const SNAPSHOT_RECORD_HEADER = SNAPSHOT_RECORD_OFFSET.data
/** FORMAT.md › Snapshot file: `[u32 mark][u32 crc of the next 16 bytes][u64 total bytes][u32 chunks][u32 reserved]`. */
export const SNAPSHOT_TRAILER_OFFSET = Object.freeze({
  mark: 0,
  crc: 4,
  totalBytes: 8,
  chunks: 16,
  reserved: 20,
} as const)
/** Size of the snapshot trailer, the last bytes of a complete snapshot file. */
export const SNAPSHOT_TRAILER_BYTES = 24
/** The trailer's `mark`: a chunk length no chunk can have. */
export const SNAPSHOT_TRAILER_MARK = 0xffff_ffff
/** Largest snapshot chunk: bigger chunks are split when written. */
export const MAX_SNAPSHOT_CHUNK = 16 * 1024 * 1024

/** FORMAT.md › Frame: the type byte. */
export const FrameType = { commit: 1, seal: 2, marker: 3 } as const
/** One of {@link FrameType}'s values. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType]

/** True for the type byte of a known frame type. */
export function isFrameType(type: number | undefined): type is FrameTypeValue {
  return type === FrameType.commit || type === FrameType.seal || type === FrameType.marker
}

/** A new log's id: 128 random bits, as 32 lowercase hex digits (FORMAT.md › Segment header › `logId`). */
export function newLogId(): string {
  return randomBytes(SEGMENT_HEADER_OFFSET.baseSeq - SEGMENT_HEADER_OFFSET.logId).toString('hex')
}

/** A chain as the public API shows it: 16 lowercase hex digits. */
export function chainToHex(chain: bigint): string {
  return chain.toString(16).padStart(16, '0')
}

/** Parses 16 lowercase hex digits; throws a TypeError for anything else. */
export function chainFromHex(hex: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(hex))
    throw new TypeError(`chain must be 16 lowercase hex digits, got ${JSON.stringify(hex)}`)
  return BigInt(`0x${hex}`)
}

/** Writes a u64 below 2^53 (seqs, offsets) at `offset`. */
export function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % 0x1_0000_0000, offset)
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4)
}

/** A u64 below 2^53 (seqs, offsets) at `offset`. */
export function readU64(buf: Uint8Array, offset: number): number {
  const view = asBuffer(buf)
  return view.readUInt32LE(offset) + view.readUInt32LE(offset + 4) * 0x1_0000_0000
}

/** A Buffer view of the same bytes (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The fields of a segment header that vary. */
export interface SegmentHeader {
  number: number
  logId: string
  /** Position before the first commit of the segment. */
  baseSeq: number
  baseChain: bigint
}

/** The 64 header bytes of a segment. */
export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const at = SEGMENT_HEADER_OFFSET
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES)
  SEGMENT_MAGIC.copy(buf, at.magic)
  buf.writeUInt16LE(FORMAT_VERSION, at.version)
  buf.writeUInt16LE(SEGMENT_HEADER_BYTES, at.headerSize)
  buf.writeUInt32LE(h.number, at.number)
  Buffer.from(h.logId, 'hex').copy(buf, at.logId)
  writeU64(buf, at.baseSeq, h.baseSeq)
  buf.writeBigUInt64LE(h.baseChain, at.baseChain)
  buf.writeUInt32LE(crc32c(buf.subarray(0, at.crc)), at.crc)
  return buf
}

/** Why a segment or snapshot header did not decode. */
export type HeaderProblem = 'short' | 'magic' | 'version' | 'crc'

/** Decodes a segment header, or says what is wrong with it. */
export function decodeSegmentHeader(buf: Uint8Array): SegmentHeader | HeaderProblem {
  const at = SEGMENT_HEADER_OFFSET
  if (buf.byteLength < SEGMENT_HEADER_BYTES) return 'short'
  const view = asBuffer(buf)
  if (!view.subarray(at.magic, at.version).equals(SEGMENT_MAGIC)) return 'magic'
  if (crc32c(view.subarray(0, at.crc)) !== view.readUInt32LE(at.crc)) return 'crc'
  if (view.readUInt16LE(at.version) !== FORMAT_VERSION || view.readUInt16LE(at.headerSize) !== SEGMENT_HEADER_BYTES) {
    return 'version'
  }
  return {
    number: view.readUInt32LE(at.number),
    logId: view.subarray(at.logId, at.baseSeq).toString('hex'),
    baseSeq: readU64(view, at.baseSeq),
    baseChain: view.readBigUInt64LE(at.baseChain),
  }
}

/** The fields of a snapshot header that vary. */
export interface SnapshotHeader {
  logId: string
  seq: number
  chain: bigint
}

/** The 64 header bytes of a snapshot file. */
export function encodeSnapshotHeader(h: SnapshotHeader): Buffer {
  const at = SNAPSHOT_HEADER_OFFSET
  const buf = Buffer.alloc(SNAPSHOT_HEADER_BYTES)
  SNAPSHOT_MAGIC.copy(buf, at.magic)
  buf.writeUInt16LE(FORMAT_VERSION, at.version)
  buf.writeUInt16LE(SNAPSHOT_HEADER_BYTES, at.headerSize)
  Buffer.from(h.logId, 'hex').copy(buf, at.logId)
  writeU64(buf, at.seq, h.seq)
  buf.writeBigUInt64LE(h.chain, at.chain)
  buf.writeUInt32LE(crc32c(buf.subarray(0, at.crc)), at.crc)
  return buf
}

/** Decodes a snapshot header, or says what is wrong with it. */
export function decodeSnapshotHeader(buf: Uint8Array): SnapshotHeader | HeaderProblem {
  const at = SNAPSHOT_HEADER_OFFSET
  if (buf.byteLength < SNAPSHOT_HEADER_BYTES) return 'short'
  const view = asBuffer(buf)
  if (!view.subarray(at.magic, at.version).equals(SNAPSHOT_MAGIC)) return 'magic'
  if (crc32c(view.subarray(0, at.crc)) !== view.readUInt32LE(at.crc)) return 'crc'
  if (view.readUInt16LE(at.version) !== FORMAT_VERSION || view.readUInt16LE(at.headerSize) !== SNAPSHOT_HEADER_BYTES) {
    return 'version'
  }
  return {
    logId: view.subarray(at.logId, at.seq).toString('hex'),
    seq: readU64(view, at.seq),
    chain: view.readBigUInt64LE(at.chain),
  }
}

/** The record header (length, CRC) written before a snapshot chunk. */
export function encodeChunkHeader(data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(SNAPSHOT_RECORD_HEADER)
  buf.writeUInt32LE(data.byteLength, SNAPSHOT_RECORD_OFFSET.length)
  buf.writeUInt32LE(crc32c(asBuffer(data)), SNAPSHOT_RECORD_OFFSET.crc)
  return buf
}

/** CRC32C of a snapshot chunk's data. */
export function chunkCrc(data: Uint8Array): number {
  return crc32c(asBuffer(data))
}

/** The snapshot trailer for `totalBytes` of payload in `chunks` chunks. */
export function encodeSnapshotTrailer(totalBytes: number, chunks: number): Buffer {
  const at = SNAPSHOT_TRAILER_OFFSET
  const buf = Buffer.alloc(SNAPSHOT_TRAILER_BYTES)
  buf.writeUInt32LE(SNAPSHOT_TRAILER_MARK, at.mark)
  writeU64(buf, at.totalBytes, totalBytes)
  buf.writeUInt32LE(chunks, at.chunks)
  buf.writeUInt32LE(crc32c(buf.subarray(at.totalBytes)), at.crc)
  return buf
}

/** Decodes a snapshot trailer; `undefined` unless mark and CRC check out. */
export function decodeSnapshotTrailer(buf: Uint8Array): { totalBytes: number; chunks: number } | undefined {
  const at = SNAPSHOT_TRAILER_OFFSET
  if (buf.byteLength !== SNAPSHOT_TRAILER_BYTES) return undefined
  const view = asBuffer(buf)
  if (view.readUInt32LE(at.mark) !== SNAPSHOT_TRAILER_MARK) return undefined
  if (crc32c(view.subarray(at.totalBytes)) !== view.readUInt32LE(at.crc)) return undefined
  return { totalBytes: readU64(view, at.totalBytes), chunks: view.readUInt32LE(at.chunks) }
}

/** FORMAT.md › file names: a file being written ends with this and is deleted by the next writable open. */
export const TEMP_SUFFIX = '.tmp'
/** FORMAT.md › Lock file. */
export const LOCK_FILE = 'LOCK'

/** `segment-NNNNNNNN.log`. */
export function segmentFileName(number: number): string {
  return `segment-${String(number).padStart(8, '0')}.log`
}

/** `snapshot-SSSSSSSSSSSSSSSS.snap`. */
export function snapshotFileName(seq: number): string {
  return `snapshot-${String(seq).padStart(16, '0')}.snap`
}

// Only the exact names segmentFileName/snapshotFileName produce count: 'segment-000000001.log' parsed as 1 would be
// opened as 'segment-00000001.log' (another file, or none), and numbers past 2^53 would not round-trip.
/** The number a segment file name stands for, if it is exactly such a name. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = /^segment-(\d{8,})\.log$/.exec(name)
  const n = m ? Number(m[1]) : Number.NaN
  return Number.isSafeInteger(n) && segmentFileName(n) === name ? n : undefined
}

/** The seq a snapshot file name stands for, if it is exactly such a name. */
export function parseSnapshotFileName(name: string): number | undefined {
  const m = /^snapshot-(\d{16,})\.snap$/.exec(name)
  const n = m ? Number(m[1]) : Number.NaN
  return Number.isSafeInteger(n) && snapshotFileName(n) === name ? n : undefined
}
