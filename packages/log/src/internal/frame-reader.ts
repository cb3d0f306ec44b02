// Streams the frames of one segment file in bounded windows, so replaying a log never holds more than a window
// (or one frame, if a frame is bigger) in memory. Recovery, reads, followers and verify all use it.
import type { FileHandleLike } from '../file-layer.js'
import { type DecodedFrame, decodeFrame, type FrameProblem, MAX_FRAME_BODY } from './format.js'

const WINDOW = 1024 * 1024

export interface FrameAt {
  /** Offset of the frame in the file. */
  offset: number
  frame: DecodedFrame
  /** The window the frame was decoded from (its bytes are `buffer[at, at + frame.size)`). */
  buffer: Buffer
  at: number
}

export interface FrameStop {
  offset: number
  problem: FrameProblem
}

async function readAt(handle: FileHandleLike, position: number, length: number): Promise<Buffer> {
  // A fresh buffer per window: payloads handed out as views stay valid after the next read.
  const buf = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    const n = await handle.read(buf, filled, length - filled, position + filled)
    if (n === 0) break
    filled += n
  }
  return filled === length ? buf : buf.subarray(0, filled)
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
    let need = 8
    if (buffer.byteLength - rel >= 8) need = Math.min(8 + buffer.readUInt32LE(rel), 8 + MAX_FRAME_BODY)
    if (buffer.byteLength - rel < Math.min(need, end - offset)) {
      buffer = await readAt(handle, offset, Math.min(Math.max(WINDOW, need), end - offset))
      bufferStart = offset
      rel = 0
      if (buffer.byteLength >= 8) {
        const declared = 8 + buffer.readUInt32LE(0)
        if (declared > buffer.byteLength && declared <= end - offset && declared <= 8 + MAX_FRAME_BODY) {
          buffer = await readAt(handle, offset, declared)
        }
      }
    }
    const decoded = decodeFrame(buffer, rel, buffer.byteLength)
    if (typeof decoded === 'string') return { offset, problem: decoded === 'eof' ? 'short' : decoded }
    yield { offset, frame: decoded, buffer, at: rel }
    offset += decoded.size
  }
}

export type { DecodedFrame }
