// Commit frames on the wire are @homedb/log's frames byte for byte (packages/log/FORMAT.md, "Frame"). The home
// lets the log verify what it appends; clients that receive frames (replicas, restores) check them here: length,
// CRC32C, type, seq continuity and the chain, so a damaged or forged response never reaches a db.
import { crc32c } from '@node-rs/crc32'
import { xxh64 } from '@node-rs/xxhash'
import { ReplicationRemoteError } from '../errors.js'

const FRAME_HEADER_BYTES = 28
const BODY_PREFIX = 20
const COMMIT = 1
const U64_MASK = (1n << 64n) - 1n

/** A commit frame as received, with the fields a client needs. */
export interface WireFrame {
  readonly seq: number
  /** Chain after this commit, 16 hex digits. */
  readonly chain: string
  /** The whole frame (what `appendEncoded` takes). */
  readonly frame: Uint8Array
  /** The commit's payload (a view into `frame`). */
  readonly payload: Uint8Array
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function readSeq(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 0x1_0000_0000
}

/**
 * Cuts a body of back-to-back frames into frames, checking only their lengths (at least a header, at most
 * `maxFrameBytes`, none running past the end). Throws `REPLICATION_PROTOCOL` otherwise.
 */
export function splitFrames(body: Uint8Array, maxFrameBytes: number): Uint8Array[] {
  const buf = view(body)
  const frames: Uint8Array[] = []
  let offset = 0
  while (offset < buf.byteLength) {
    if (buf.byteLength - offset < FRAME_HEADER_BYTES) throw bad('a truncated frame header', offset)
    const size = 8 + buf.readUInt32LE(offset)
    if (size < FRAME_HEADER_BYTES || size > maxFrameBytes) throw bad(`a frame of ${size} bytes`, offset)
    if (offset + size > buf.byteLength) throw bad('a frame running past the end of the body', offset)
    frames.push(buf.subarray(offset, offset + size))
    offset += size
  }
  return frames
}

function bad(what: string, offset: number): ReplicationRemoteError {
  return new ReplicationRemoteError('REPLICATION_PROTOCOL', `the body holds ${what} at byte ${offset}`, { offset })
}

/** The seq and chain a frame claims (no check). */
export function frameHeader(frame: Uint8Array): { seq: number; chain: string } {
  const buf = view(frame)
  return { seq: readSeq(buf, 20), chain: buf.readBigUInt64LE(12).toString(16).padStart(16, '0') }
}

/**
 * Checks that `frames` are commit frames that continue `after` (seq + 1 each, CRC and chain right) and returns them
 * decoded. Throws `REPLICATION_PROTOCOL` naming the first frame that does not.
 */
export function verifyFrames(frames: readonly Uint8Array[], after: { seq: number; chain: string }): WireFrame[] {
  let seq = after.seq
  let chain = BigInt(`0x${after.chain}`)
  const out: WireFrame[] = []
  for (const frame of frames) {
    const buf = view(frame)
    const bodyLength = buf.readUInt32LE(0)
    if (bodyLength < BODY_PREFIX || 8 + bodyLength !== buf.byteLength) throw mismatch('length', seq + 1)
    if (crc32c(buf.subarray(8)) !== buf.readUInt32LE(4)) throw mismatch('CRC', seq + 1)
    if (buf[8] !== COMMIT) throw mismatch('type', seq + 1)
    const frameSeq = readSeq(buf, 20)
    if (frameSeq !== seq + 1) throw mismatch(`seq (${frameSeq})`, seq + 1)
    const expected = xxh64(buf.subarray(20), chain) & U64_MASK
    if (expected !== buf.readBigUInt64LE(12)) throw mismatch('chain', seq + 1)
    seq = frameSeq
    chain = expected
    out.push({ seq, chain: chain.toString(16).padStart(16, '0'), frame, payload: buf.subarray(FRAME_HEADER_BYTES) })
  }
  return out
}

function mismatch(what: string, seq: number): ReplicationRemoteError {
  return new ReplicationRemoteError('REPLICATION_PROTOCOL', `received frame for seq ${seq} has a wrong ${what}`, {
    seq,
    problem: what,
  })
}
