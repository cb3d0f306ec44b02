// Frames as bytes (FORMAT.md › Frame, › Positions): encoding a frame in place (where group commit writes it from) or
// into a buffer of its own, decoding and checking one, the chain hash, and marker payloads. The offsets and sizes
// come from format.ts; this file holds the rules that use them.
import {
  asBuffer,
  FRAME_BODY_MIN,
  FRAME_HEADER_BYTES,
  FRAME_OFFSET,
  FRAME_PREFIX_BYTES,
  FrameType,
  type FrameTypeValue,
  isFrameType,
  MAX_FRAME_BODY,
  readU64,
  writeU64,
} from './format.js'
import { crc32c, encodeSmallFrameAt, SMALL_PAYLOAD_BYTES, xxh64 } from './frame-hash.js'

/** chain_n = xxh64(seq_n ‖ payload_n, seed = chain_{n-1}); `seqAndPayload` is the frame body from the seq field on. */
function nextChain(prev: bigint, seqAndPayload: Uint8Array): bigint {
  return xxh64(seqAndPayload, prev)
}

/** Bytes of a frame with a payload of `payloadBytes`. */
export function frameSize(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes
}

/** Bytes frames are encoded into, with a DataView of the same memory (it writes the 64-bit chain without a copy). */
export interface FrameBuffer {
  readonly bytes: Buffer
  readonly view: DataView
}

/** A {@link FrameBuffer} of `size` bytes (not zeroed: encoders write every byte of what they use). */
export function frameBuffer(size: number): FrameBuffer {
  const bytes = Buffer.allocUnsafeSlow(size)
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
}

/**
 * Encodes a frame at `offset` of `target`, which must have {@link frameSize} bytes there, and returns the chain after
 * it. For commits the chain is computed from `chainOrPrev`, the chain before; seal and marker frames carry the
 * current head seq and chain (`chainOrPrev`) and consume neither. Called once per append: a small frame is built and
 * hashed in one call into WebAssembly (frame-hash.ts), a larger one here, hashed natively.
 */
export function encodeFrameAt(
  target: FrameBuffer,
  offset: number,
  type: FrameTypeValue,
  seq: number,
  chainOrPrev: bigint,
  payload: Uint8Array,
): bigint {
  const { bytes, view } = target
  if (payload.byteLength <= SMALL_PAYLOAD_BYTES)
    return encodeSmallFrameAt(bytes, offset, type, seq, chainOrPrev, payload)
  const end = offset + FRAME_HEADER_BYTES + payload.byteLength
  view.setUint32(offset + FRAME_OFFSET.length, FRAME_BODY_MIN + payload.byteLength, true)
  // The type byte and the three reserved bytes after it, zero.
  view.setUint32(offset + FRAME_OFFSET.type, type, true)
  view.setUint32(offset + FRAME_OFFSET.seq, seq % 0x1_0000_0000, true)
  view.setUint32(offset + FRAME_OFFSET.seq + 4, Math.floor(seq / 0x1_0000_0000), true)
  bytes.set(payload, offset + FRAME_OFFSET.payload)
  const memory = bytes.buffer
  const base = bytes.byteOffset + offset
  const chain =
    type === FrameType.commit
      ? nextChain(chainOrPrev, new Uint8Array(memory, base + FRAME_OFFSET.seq, end - offset - FRAME_OFFSET.seq))
      : chainOrPrev
  view.setBigUint64(offset + FRAME_OFFSET.chain, chain, true)
  const body = new Uint8Array(memory, base + FRAME_OFFSET.type, end - offset - FRAME_OFFSET.type)
  view.setUint32(offset + FRAME_OFFSET.crc, crc32c(body), true)
  return chain
}

/**
 * Encodes a frame into a buffer of its own. For commits the chain is computed from `prevChain`; for seal and marker
 * frames `chain` is the current head chain and the seq is the current head seq (they consume no seq).
 */
export function encodeFrame(
  type: FrameTypeValue,
  seq: number,
  chainOrPrev: bigint,
  payload: Uint8Array,
): { frame: Buffer; chain: bigint } {
  const bytes = Buffer.allocUnsafe(frameSize(payload.byteLength))
  const target = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
  const chain = encodeFrameAt(target, 0, type, seq, chainOrPrev, payload)
  return { frame: bytes, chain }
}

/** Why a frame could not be read at some offset. */
export type FrameProblem = 'eof' | 'zeros' | 'short' | 'length' | 'crc' | 'type'

/** A frame that decoded: its length and CRC check out. */
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
 * seq and chain continuity are the caller's business (see {@link commitFollows}). `dataView`, a DataView of `buf`'s
 * bytes, reads the chain faster; readers that decode many frames of one window pass one.
 */
export function decodeFrame(
  buf: Uint8Array,
  offset: number,
  end: number,
  dataView?: DataView,
): DecodedFrame | FrameProblem {
  if (offset === end) return 'eof'
  if (end - offset < FRAME_PREFIX_BYTES) return allZero(buf, offset, end) ? 'zeros' : 'short'
  const view = asBuffer(buf)
  const bodyLength = view.readUInt32LE(offset + FRAME_OFFSET.length)
  if (bodyLength === 0) return allZero(buf, offset, Math.min(end, offset + FRAME_HEADER_BYTES)) ? 'zeros' : 'length'
  if (bodyLength < FRAME_BODY_MIN || bodyLength > MAX_FRAME_BODY) return 'length'
  const size = FRAME_PREFIX_BYTES + bodyLength
  if (end - offset < size) return 'short'
  const body = new Uint8Array(view.buffer, view.byteOffset + offset + FRAME_OFFSET.type, bodyLength)
  if (crc32c(body) !== view.readUInt32LE(offset + FRAME_OFFSET.crc)) return 'crc'
  const type = view[offset + FRAME_OFFSET.type]
  if (!isFrameType(type)) return 'type'
  const at = offset + FRAME_OFFSET.seq
  return {
    type,
    seq: view.readUInt32LE(at) + view.readUInt32LE(at + 4) * 0x1_0000_0000,
    chain: dataView
      ? dataView.getBigUint64(offset + FRAME_OFFSET.chain, true)
      : view.readBigUInt64LE(offset + FRAME_OFFSET.chain),
    size,
    payload: view.subarray(offset + FRAME_OFFSET.payload, offset + size),
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
  const seqAndPayload = new Uint8Array(
    buf.buffer,
    buf.byteOffset + offset + FRAME_OFFSET.seq,
    frame.size - FRAME_OFFSET.seq,
  )
  return nextChain(prevChain, seqAndPayload) === frame.chain ? 'ok' : 'chain'
}

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false
  return true
}

/** FORMAT.md › Frame › marker: the payload is one u64, `syncedTo`. */
const MARKER_PAYLOAD_BYTES = 8
/** Bytes of a marker frame. */
export const MARKER_FRAME_BYTES = FRAME_HEADER_BYTES + MARKER_PAYLOAD_BYTES
/** Bytes of a seal frame (its payload is empty). */
export const SEAL_FRAME_BYTES = FRAME_HEADER_BYTES

/** Payload of a batch marker: the segment offset known durable when the batch was written. */
export function markerPayload(syncedTo: number): Buffer {
  const payload = Buffer.alloc(MARKER_PAYLOAD_BYTES)
  writeU64(payload, 0, syncedTo)
  return payload
}

/** The `syncedTo` a marker's payload records, or `undefined` if the payload is not a marker's. */
export function readMarker(payload: Uint8Array): number | undefined {
  return payload.byteLength === MARKER_PAYLOAD_BYTES ? readU64(payload, 0) : undefined
}
