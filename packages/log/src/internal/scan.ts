// Scans one segment: follows its frames while CRC, seq and chain hold, and when they stop, looks past the damage
// for later valid frames so recovery can tell a torn unsynced tail from corruption of synced data.
import { crc32c } from '@node-rs/crc32'
import type { FileHandleLike } from '../file-layer.js'
import {
  commitFollows,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_FRAME_BODY,
  readMarker,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
} from './format.js'
import { readFrames } from './frame-reader.js'

export type StopReason = 'eof' | 'zeros' | 'short' | 'length' | 'crc' | 'type' | 'seq' | 'chain' | 'after-seal'

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
  /** Why the scan stopped at `validEnd` (`'eof'`: the file ends exactly there). */
  stop: StopReason
  /** Valid frames found beyond the damage (only when the scan stopped early and `lookPast` was asked). */
  beyond: { commits: number; maxSynced: number; lastOffset: number }
}

/** Follows the frames of a segment from its header to `size`. */
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
  const frames = readFrames(handle, SEGMENT_HEADER_BYTES, () => size)
  for (;;) {
    const next = await frames.next()
    if (next.done) {
      stop = next.value.problem === 'eof' ? 'eof' : next.value.problem
      validEnd = next.value.offset
      break
    }
    const { frame, buffer, at, offset } = next.value
    if (sealed) {
      stop = 'after-seal'
      validEnd = offset
      break
    }
    if (frame.type === FrameType.commit) {
      const follows = commitFollows(buffer, at, frame, seq, chain)
      if (follows !== 'ok') {
        stop = follows
        validEnd = offset
        break
      }
      seq = frame.seq
      chain = frame.chain
      commits++
      onCommit?.(seq)
    } else {
      if (frame.seq !== seq || frame.chain !== chain) {
        stop = frame.seq !== seq ? 'seq' : 'chain'
        validEnd = offset
        break
      }
      if (frame.type === FrameType.seal) sealed = true
      else {
        const synced = readMarker(frame.payload)
        if (synced !== undefined && synced <= offset) maxSynced = Math.max(maxSynced, synced)
      }
    }
    validEnd = offset + frame.size
  }
  await frames.return(undefined as never)
  const beyond = { commits: 0, maxSynced: 0, lastOffset: validEnd }
  if (stop !== 'eof' && lookPast && validEnd < size) await lookBeyond(handle, validEnd, size, seq, beyond)
  return { header, validEnd, seq, chain, commits, sealed, maxSynced, stop, beyond }
}

/**
 * Searches [from, size) for frames that decode (CRC) although the chain is broken before them. Candidates are
 * filtered cheaply (type byte, zero reserved bytes, plausible seq) before the CRC is computed.
 */
async function lookBeyond(
  handle: FileHandleLike,
  from: number,
  size: number,
  seq: number,
  out: { commits: number; maxSynced: number; lastOffset: number },
): Promise<void> {
  const length = size - from
  const buf = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    const n = await handle.read(buf, filled, length - filled, from + filled)
    if (n === 0) break
    filled += n
  }
  const maxSeq = seq + Math.ceil(filled / FRAME_HEADER_BYTES) + 1
  let i = 1
  while (i + FRAME_HEADER_BYTES <= filled) {
    const bodyLength = buf.readUInt32LE(i)
    const type = buf[i + 8]
    if (
      bodyLength >= FRAME_HEADER_BYTES - 8 &&
      bodyLength <= MAX_FRAME_BODY &&
      i + 8 + bodyLength <= filled &&
      (type === FrameType.commit || type === FrameType.seal || type === FrameType.marker) &&
      buf[i + 9] === 0 &&
      buf[i + 10] === 0 &&
      buf[i + 11] === 0
    ) {
      const frameSeq = buf.readUInt32LE(i + 20) + buf.readUInt32LE(i + 24) * 0x1_0000_0000
      if (
        frameSeq >= seq &&
        frameSeq <= maxSeq &&
        crc32c(buf.subarray(i + 8, i + 8 + bodyLength)) === buf.readUInt32LE(i + 4)
      ) {
        if (type === FrameType.commit) out.commits++
        if (type === FrameType.marker) {
          const synced = readMarker(buf.subarray(i + FRAME_HEADER_BYTES, i + 8 + bodyLength))
          if (synced !== undefined && synced <= from + i) out.maxSynced = Math.max(out.maxSynced, synced)
        }
        out.lastOffset = from + i + 8 + bodyLength
        i += 8 + bodyLength
        continue
      }
    }
    i++
  }
}
