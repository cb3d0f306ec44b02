// The frames of group commit's next batch, encoded in place into the buffer the batch is written from: an append
// builds its frame once, where it will be written, instead of allocating a frame and concatenating frames per
// batch. Room for a marker is kept at the front and for a seal at the end, so taking the batch copies nothing. Two
// buffers alternate: one collects appends while the other is being written, then the written one is reused.
import { FrameType } from './format.js'
import {
  encodeFrameAt,
  type FrameBuffer,
  frameBuffer,
  frameSize,
  MARKER_FRAME_BYTES,
  markerPayload,
  SEAL_FRAME_BYTES,
} from './frame-codec.js'
import type { Point } from './positions.js'

/** A new buffer's size. */
const INITIAL_BYTES = 16 * 1024
/**
 * The largest buffer kept for the next batches once written: a bigger one (a batch of large payloads) is dropped, so
 * an idle writable log holds at most two buffers of this size.
 */
export const RETAINED_BATCH_BYTES = 1024 * 1024

const EMPTY = new Uint8Array(0)

/** A marker to put before the batch's frames (FORMAT.md › Frame › marker). */
export interface BatchMarker extends Point {
  readonly syncedTo: number
}

/** See the file header. */
export class PendingBatch {
  #buffer: FrameBuffer = frameBuffer(INITIAL_BYTES)
  /** Where the queued frames end in `#buffer`; they start at MARKER_FRAME_BYTES. */
  #end = MARKER_FRAME_BYTES
  #frames = 0
  /** The buffer of the batch being written, until `written()`. */
  #inFlight: FrameBuffer | undefined
  /** A written buffer, reused by the next batch. */
  #spare: FrameBuffer | undefined

  /** Frames queued. */
  get frames(): number {
    return this.#frames
  }

  /** Bytes of the frames queued. */
  get bytes(): number {
    return this.#end - MARKER_FRAME_BYTES
  }

  /** Encodes the commit of `payload` at `seq` after `prevChain`; returns its chain. */
  addCommit(seq: number, prevChain: bigint, payload: Uint8Array): bigint {
    const at = this.#reserve(frameSize(payload.byteLength))
    const chain = encodeFrameAt(this.#buffer, at, FrameType.commit, seq, prevChain, payload)
    this.#frames++
    return chain
  }

  /** Queues a frame that is already encoded (a copy of it). */
  addFrame(frame: Uint8Array): void {
    const at = this.#reserve(frame.byteLength)
    this.#buffer.bytes.set(frame, at)
    this.#frames++
  }

  /**
   * The queued frames as one write, after `marker` and before a seal at `seal`, if given. The buffer is then in
   * flight until {@link written}, and appends go to another one.
   */
  take(marker: BatchMarker | undefined, seal: Point | undefined): Uint8Array {
    const buffer = this.#buffer
    let start = MARKER_FRAME_BYTES
    if (marker) {
      start = 0
      encodeFrameAt(buffer, 0, FrameType.marker, marker.seq, marker.chain, markerPayload(marker.syncedTo))
    }
    let end = this.#end
    if (seal) {
      encodeFrameAt(buffer, end, FrameType.seal, seal.seq, seal.chain, EMPTY)
      end += SEAL_FRAME_BYTES
    }
    this.#inFlight = buffer
    // Without a spare, a new buffer as big as this batch (within limits): the next one is likely alike.
    this.#buffer = this.#spare ?? frameBuffer(Math.min(RETAINED_BATCH_BYTES, Math.max(INITIAL_BYTES, end)))
    this.#spare = undefined
    this.#end = MARKER_FRAME_BYTES
    this.#frames = 0
    return buffer.bytes.subarray(start, end)
  }

  /** The batch taken last was written: its buffer may be reused (unless it grew past RETAINED_BATCH_BYTES). */
  written(): void {
    const done = this.#inFlight
    this.#inFlight = undefined
    if (done && done.bytes.byteLength <= RETAINED_BATCH_BYTES) this.#spare = done
  }

  /** Drops everything queued (the log failed: it is never written). */
  clear(): void {
    this.#end = MARKER_FRAME_BYTES
    this.#frames = 0
  }

  /** Room for `size` more bytes, and a seal after them; returns where they go. */
  #reserve(size: number): number {
    const at = this.#end
    const need = at + size + SEAL_FRAME_BYTES
    if (need > this.#buffer.bytes.byteLength) {
      const grown = frameBuffer(Math.max(need, 2 * this.#buffer.bytes.byteLength))
      grown.bytes.set(this.#buffer.bytes.subarray(0, at))
      this.#buffer = grown
    }
    this.#end = at + size
    return at
  }
}
