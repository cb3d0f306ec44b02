// Scans one segment (the last one at open, every one in verifyLog): follows its frames while CRC, seq and chain
// hold, and when they stop, looks past the damage for later valid frames so recovery can tell a torn unsynced tail
// from corruption of synced data. Frames followed by nothing but zeros end cleanly: that is a preallocated segment's
// unwritten space (FORMAT.md › Writing), not damage.
import type { FileHandleLike } from '../file-layer.js'
import {
  FRAME_BODY_MIN,
  FRAME_HEADER_BYTES,
  FRAME_OFFSET,
  FRAME_PREFIX_BYTES,
  FrameType,
  isFrameType,
  MAX_FRAME_BODY,
  readU64,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
} from './format.js'
import { commitFollows, readMarker } from './frame-codec.js'
import { crc32c } from './frame-hash.js'
import { FrameCursor } from './frame-reader.js'
import { readFully } from './io.js'

/**
 * Why a scan stopped: the end of the file, only zeros up to the end of the file (`'zero-tail'`: preallocated space
 * never written), a frame that does not decode, or one that does not follow.
 */
export type StopReason =
  | 'eof'
  | 'zero-tail'
  | 'zeros'
  | 'short'
  | 'length'
  | 'crc'
  | 'type'
  | 'seq'
  | 'chain'
  | 'after-seal'

/** The frames end cleanly: at the end of the file, or where only zeros follow. */
export function endsCleanly(stop: StopReason): boolean {
  return stop === 'eof' || stop === 'zero-tail'
}

/** What {@link scanSegment} found. */
export interface SegmentScan {
  header: SegmentHeader
  /** Offset just after the last frame that checked out. */
  validEnd: number
  /** Position at `validEnd`. */
  seq: number
  chain: bigint
  commits: number
  sealed: boolean
  /** Highest durable offset recorded by batch markers up to `validEnd`. */
  maxSynced: number
  /** Why the scan stopped at `validEnd` (`'eof'`: the file ends exactly there; `'zero-tail'`: only zeros follow). */
  stop: StopReason
  /**
   * Where the bytes that are not zero end (the file's size unless it ends in zeros): what a cut at `validEnd`
   * removes besides zeros. Measured when the scan stopped before the end of the file and `lookPast` was asked, or
   * at zeros (then `validEnd` if only zeros follow); else the size.
   */
  dataEnd: number
  /** Valid frames found beyond the damage (only when the scan stopped early and `lookPast` was asked). */
  beyond: { commits: number; maxSynced: number; lastOffset: number }
}

/**
 * Follows the frames of a segment from its header to `size` (FORMAT.md › Recovery 3); with `lookPast`, searches the
 * rest of the file after damage for frames that still decode (FORMAT.md › Recovery 4).
 */
export async function scanSegment(
  handle: FileHandleLike,
  header: SegmentHeader,
  size: number,
  lookPast: boolean,
  onCommit?: (seq: number) => void,
): Promise<SegmentScan> {
  let seq = header.baseSeq
  let chain = header.baseChain
  let commits = 0
  let sealed = false
  let maxSynced = SEGMENT_HEADER_BYTES
  let stop: StopReason = 'eof'
  let validEnd = SEGMENT_HEADER_BYTES
  const frames = new FrameCursor(handle, SEGMENT_HEADER_BYTES, () => size)
  scan: while (await frames.load()) {
    for (let frame = frames.next(); frame !== undefined; frame = frames.next()) {
      const offset = frames.frameOffset
      if (sealed) {
        stop = 'after-seal'
        validEnd = offset
        break scan
      }
      if (frame.type === FrameType.commit) {
        const follows = commitFollows(frames.buffer, frames.at, frame, seq, chain)
        if (follows !== 'ok') {
          stop = follows
          validEnd = offset
          break scan
        }
        seq = frame.seq
        chain = frame.chain
        commits++
        onCommit?.(seq)
      } else {
        if (frame.seq !== seq || frame.chain !== chain) {
          stop = frame.seq !== seq ? 'seq' : 'chain'
          validEnd = offset
          break scan
        }
        if (frame.type === FrameType.seal) sealed = true
        else {
          const synced = readMarker(frame.payload)
          if (synced !== undefined && synced <= offset) maxSynced = Math.max(maxSynced, synced)
        }
      }
      validEnd = offset + frame.size
    }
  }
  if (frames.stop) {
    stop = frames.stop.problem
    validEnd = frames.stop.offset
  }
  const beyond = { commits: 0, maxSynced: 0, lastOffset: validEnd }
  let dataEnd = size
  // One read of the rest of the file tells both whether it is all zeros and what lies past the damage.
  if (stop !== 'eof' && lookPast) dataEnd = await lookBeyond(handle, validEnd, size, seq, beyond)
  else if (stop === 'zeros' && (await zerosTo(handle, validEnd, size))) dataEnd = validEnd
  if (stop === 'zeros' && dataEnd === validEnd) stop = 'zero-tail'
  return { header, validEnd, seq, chain, commits, sealed, maxSynced, stop, dataEnd, beyond }
}

/** Bytes compared with zeros at once by {@link zerosTo}. */
const ZERO_WINDOW = 1024 * 1024
const ZEROS = Buffer.alloc(ZERO_WINDOW)

/** Whether the file holds only zeros from `from` to `size`: the unwritten rest of a preallocated segment. */
async function zerosTo(handle: FileHandleLike, from: number, size: number): Promise<boolean> {
  for (let at = from; at < size; at += ZERO_WINDOW) {
    const window = await readFully(handle, at, Math.min(ZERO_WINDOW, size - at))
    if (!window.equals(ZEROS.subarray(0, window.byteLength))) return false
    if (window.byteLength < Math.min(ZERO_WINDOW, size - at)) return true
  }
  return true
}

/** Index just past the last byte of `buf` that is not zero (0 if all are). */
function endOfNonZero(buf: Buffer): number {
  let end = buf.byteLength
  // Whole windows of zeros at the end first (a memcmp each), then byte by byte.
  while (end >= 4096 && buf.subarray(end - 4096, end).equals(ZEROS.subarray(0, 4096))) end -= 4096
  while (end > 0 && buf[end - 1] === 0) end--
  return end
}

/**
 * Searches [from, size) for frames that decode (CRC) although the chain is broken before them. Candidates are
 * filtered cheaply (type byte, zero reserved bytes, plausible seq) before the CRC is computed. Returns where the
 * bytes that are not zero end.
 */
async function lookBeyond(
  handle: FileHandleLike,
  from: number,
  size: number,
  seq: number,
  out: { commits: number; maxSynced: number; lastOffset: number },
): Promise<number> {
  const buf = await readFully(handle, from, size - from)
  const filled = buf.byteLength
  // A frame starts with its non-zero length: none starts in the zeros at the end, so the search stops there.
  const dataEnd = endOfNonZero(buf)
  const maxSeq = seq + Math.ceil(filled / FRAME_HEADER_BYTES) + 1
  let i = 1
  while (i < dataEnd && i + FRAME_HEADER_BYTES <= filled) {
    const frameSize = candidateSize(buf, i, seq, maxSeq)
    if (frameSize === undefined) {
      i++
      continue
    }
    const type = buf[i + FRAME_OFFSET.type]
    if (type === FrameType.commit) out.commits++
    if (type === FrameType.marker) {
      const synced = readMarker(buf.subarray(i + FRAME_HEADER_BYTES, i + frameSize))
      if (synced !== undefined && synced <= from + i) out.maxSynced = Math.max(out.maxSynced, synced)
    }
    out.lastOffset = from + i + frameSize
    i += frameSize
  }
  return from + dataEnd
}

/**
 * The size of the frame at `buf[i]` if one is there: the cheap checks (length, type byte, zero reserved bytes, a
 * plausible seq) come before the CRC, which only a real frame passes.
 */
function candidateSize(buf: Buffer, i: number, minSeq: number, maxSeq: number): number | undefined {
  const bodyLength = buf.readUInt32LE(i + FRAME_OFFSET.length)
  const size = FRAME_PREFIX_BYTES + bodyLength
  if (bodyLength < FRAME_BODY_MIN || bodyLength > MAX_FRAME_BODY || i + size > buf.byteLength) return undefined
  if (!isFrameType(buf[i + FRAME_OFFSET.type])) return undefined
  for (let r = FRAME_OFFSET.reserved; r < FRAME_OFFSET.chain; r++) if (buf[i + r] !== 0) return undefined
  const frameSeq = readU64(buf, i + FRAME_OFFSET.seq)
  if (frameSeq < minSeq || frameSeq > maxSeq) return undefined
  const crc = crc32c(buf.subarray(i + FRAME_OFFSET.type, i + size))
  return crc === buf.readUInt32LE(i + FRAME_OFFSET.crc) ? size : undefined
}
