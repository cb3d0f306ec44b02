// Streams the frames of one segment file in bounded windows, so replaying a log never holds more than a window
// (or one frame, if a frame is bigger) in memory. Recovery, reads, followers and verify all use it. It decodes
// (length and CRC) and reports where and why it stopped; what a stop means is the caller's decision.
import type { FileHandleLike } from '../file-layer.js'
import { FRAME_OFFSET, FRAME_PREFIX_BYTES, MAX_FRAME_BODY } from './format.js'
import { type DecodedFrame, decodeFrame, type FrameProblem } from './frame-codec.js'
import { readFully } from './io.js'

/** Bytes read at once (more only for a frame that is bigger). */
export const READ_WINDOW = 1024 * 1024

/** A frame as the reader yields it. */
export interface FrameAt {
  /** Offset of the frame in the file. */
  offset: number
  frame: DecodedFrame
  /** The window the frame was decoded from (its bytes are `buffer[at, at + frame.size)`). */
  buffer: Buffer
  at: number
}

/** Where and why {@link readFrames} stopped. */
export interface FrameStop {
  offset: number
  problem: FrameProblem
}

/** The largest frame there can be: a declared size above it is damage, never a read. */
const MAX_FRAME_SIZE = FRAME_PREFIX_BYTES + MAX_FRAME_BODY

/** The size the frame at `rel` of `buffer` declares, or `undefined` if its length field is not all there. */
function declaredSize(buffer: Buffer, rel: number): number | undefined {
  if (buffer.byteLength - rel < FRAME_PREFIX_BYTES) return undefined
  return FRAME_PREFIX_BYTES + buffer.readUInt32LE(rel + FRAME_OFFSET.length)
}

/**
 * Yields the frames from `start` while they decode (length and CRC), and returns where and why it stopped:
 * `'eof'` exactly at `limit()`, otherwise the problem found at that offset. `limit` is read again before each
 * frame, so a growing file can be followed.
 */
export async function* readFrames(
  handle: FileHandleLike,
  start: number,
  limit: () => number,
): AsyncGenerator<FrameAt, FrameStop, undefined> {
  let offset = start
  let buffer: Buffer = Buffer.alloc(0)
  let bufferStart = start
  for (;;) {
    const end = limit()
    if (offset >= end) return { offset, problem: 'eof' }
    let rel = offset - bufferStart
    const need = Math.min(declaredSize(buffer, rel) ?? FRAME_PREFIX_BYTES, MAX_FRAME_SIZE)
    if (buffer.byteLength - rel < Math.min(need, end - offset)) {
      buffer = await readWindow(handle, offset, Math.min(Math.max(READ_WINDOW, need), end - offset), end)
      bufferStart = offset
      rel = 0
    }
    const decoded = decodeFrame(buffer, rel, buffer.byteLength)
    if (typeof decoded === 'string') return { offset, problem: decoded === 'eof' ? 'short' : decoded }
    yield { offset, frame: decoded, buffer, at: rel }
    offset += decoded.size
  }
}

/**
 * Reads `length` bytes at `offset`, then the whole frame there if it declares more, fits before `end` and is not
 * over the largest frame size.
 */
async function readWindow(handle: FileHandleLike, offset: number, length: number, end: number): Promise<Buffer> {
  const buffer = await readFully(handle, offset, length)
  const declared = declaredSize(buffer, 0)
  if (declared === undefined || declared <= buffer.byteLength) return buffer
  if (declared > end - offset || declared > MAX_FRAME_SIZE) return buffer
  return readFully(handle, offset, declared)
}

export type { DecodedFrame }
