// Reads the frames of one segment file in bounded windows, so replaying a log never holds more than a window (or one
// frame, if a frame is bigger) in memory. Recovery, reads, followers and verify all use it. It decodes (length and
// CRC) and reports where and why it stopped; what a stop means is the caller's decision.
//
// It is a cursor rather than an async generator: `next()` decodes the frames of the window in hand synchronously,
// and only `load()` awaits, once per window. A generator step per frame cost a promise per frame, which was most of
// the time a replay took.
import type { FileHandleLike } from '../file-layer.js'
import { FRAME_OFFSET, FRAME_PREFIX_BYTES, MAX_FRAME_BODY } from './format.js'
import { type DecodedFrame, decodeFrame, type FrameProblem } from './frame-codec.js'
import { readFully } from './io.js'

/** Bytes read at once (more only for a frame that is bigger). */
export const READ_WINDOW = 1024 * 1024

/** Where and why a {@link FrameCursor} stopped. */
export interface FrameStop {
  offset: number
  problem: FrameProblem
}

/** The largest frame there can be: a declared size above it is damage, never a read. */
const MAX_FRAME_SIZE = FRAME_PREFIX_BYTES + MAX_FRAME_BODY

const EMPTY = Buffer.alloc(0)

/** The size the frame at `rel` of `buffer` declares, or `undefined` if its length field is not all there. */
function declaredSize(buffer: Buffer, rel: number): number | undefined {
  if (buffer.byteLength - rel < FRAME_PREFIX_BYTES) return undefined
  return FRAME_PREFIX_BYTES + buffer.readUInt32LE(rel + FRAME_OFFSET.length)
}

/**
 * The frames of a file from `start` while they decode (length and CRC); then {@link stop} says where and why it
 * stopped: `'eof'` exactly at `limit()`, otherwise the problem found at that offset. `limit` is read again before each
 * frame, so a growing file can be followed.
 *
 * ```ts
 * const frames = new FrameCursor(handle, start, () => size)
 * while (await frames.load()) for (let f = frames.next(); f; f = frames.next()) use(f, frames.at, frames.buffer)
 * ```
 */
export class FrameCursor {
  /** Where the last frame `next()` returned starts in the file. */
  frameOffset = 0
  /** Where the last frame `next()` returned starts in {@link buffer}. */
  at = 0
  /** The window the last frame was decoded from (its bytes are `buffer[at, at + frame.size)`). */
  buffer: Buffer = EMPTY
  /** A DataView of {@link buffer}'s bytes. */
  #view: DataView = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0)
  readonly #handle: FileHandleLike
  readonly #limit: () => number
  #window: number
  /** Where the next frame starts in the file. */
  #offset: number
  /** Where `buffer` starts in the file. */
  #bufferStart: number
  /** The offset and limit `load()` last read a window for: while both hold, reading again gets nothing more. */
  #loadedAt = -1
  #loadedEnd = -1
  /** `limit()` as the last look at the next frame found it. */
  #end = 0
  #stop: FrameStop | undefined

  /**
   * `window`: bytes the first load reads (default {@link READ_WINDOW}; more only for a bigger frame); each later load
   * reads twice as many as the one before, up to READ_WINDOW, so a small first window costs a long read little.
   */
  constructor(handle: FileHandleLike, start: number, limit: () => number, window = READ_WINDOW) {
    this.#handle = handle
    this.#limit = limit
    this.#window = window
    this.#offset = start
    this.#bufferStart = start
  }

  /** Set once the cursor stopped: where and why. */
  get stop(): FrameStop | undefined {
    return this.#stop
  }

  /**
   * The next frame, if it is all in the window in hand; `undefined` when the window is used up (call {@link load}) or
   * the cursor stopped ({@link stop}).
   */
  next(): DecodedFrame | undefined {
    const need = this.#need()
    if (need === undefined) return undefined
    const rel = this.#offset - this.#bufferStart
    // Short of what the frame needs: load a window, unless the one in hand was just read for it (the file ends).
    if (this.buffer.byteLength - rel < need && !this.#loadedForNext()) return undefined
    const decoded = decodeFrame(this.buffer, rel, this.buffer.byteLength, this.#view)
    if (typeof decoded === 'string') {
      this.#stop = { offset: this.#offset, problem: decoded === 'eof' ? 'short' : decoded }
      return undefined
    }
    this.frameOffset = this.#offset
    this.at = rel
    this.#offset += decoded.size
    return decoded
  }

  /** Reads the window the next frame needs (if the one in hand does not hold it); false once the cursor stopped. */
  async load(): Promise<boolean> {
    const need = this.#need()
    if (need === undefined) return false
    const held = this.buffer.byteLength - (this.#offset - this.#bufferStart)
    if (held >= need || this.#loadedForNext()) return true
    const end = this.#end
    const length = Math.min(Math.max(this.#window, need), end - this.#offset)
    this.#window = Math.min(READ_WINDOW, this.#window * 2)
    const buffer = await readWindow(this.#handle, this.#offset, length, end)
    this.buffer = buffer
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    this.#bufferStart = this.#loadedAt = this.#offset
    this.#loadedEnd = end
    return true
  }

  /**
   * Bytes the window must hold from the next frame on for it to be decoded: its declared size (or its length field),
   * capped by what the file holds before `limit()`. `undefined` once stopped, or at `limit()` (then stopped: eof).
   */
  #need(): number | undefined {
    if (this.#stop) return undefined
    const end = this.#limit()
    this.#end = end
    if (this.#offset >= end) {
      this.#stop = { offset: this.#offset, problem: 'eof' }
      return undefined
    }
    const declared = declaredSize(this.buffer, this.#offset - this.#bufferStart) ?? FRAME_PREFIX_BYTES
    return Math.min(declared, MAX_FRAME_SIZE, end - this.#offset)
  }

  /** The window in hand was read for the next frame with the limit as it is now: a new read gets no more. */
  #loadedForNext(): boolean {
    return this.#loadedAt === this.#offset && this.#loadedEnd === this.#end
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
