// The frames of group commit's next batch, encoded in place into the buffer the batch is written from: an append
// builds its frame once, where it will be written, instead of allocating a frame and concatenating frames per
// batch. Room for a marker is kept at the front and for a seal at the end, so taking the batch copies nothing.
//
// Buffers come from a pool shared by every log of the process and go back to it once their batch is written: a busy
// log reuses warm memory (a fresh buffer of a MiB costs hundreds of page faults), and an idle log holds none.

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

/** The smallest buffer allocated. */
const INITIAL_BYTES = 16 * 1024
/** The largest buffer the pool keeps (a bigger one, for a batch of large payloads, is left to the GC). */
export const POOLED_BUFFER_BYTES = 4 * 1024 * 1024
/** The most bytes the pool keeps in all. */
export const POOL_BYTES = 16 * 1024 * 1024

/** Free buffers, the most recently returned last (the warmest). */
const pool: FrameBuffer[] = []
let pooledBytes = 0

/** A buffer of at least `size` bytes: the warmest pooled one that is big enough, else a new one. */
function takeBuffer(size: number): FrameBuffer {
  for (let i = pool.length - 1; i >= 0; i--) {
    const buffer = pool[i]!
    if (buffer.bytes.byteLength < size) continue
    pool.splice(i, 1)
    pooledBytes -= buffer.bytes.byteLength
    return buffer
  }
  return frameBuffer(Math.max(INITIAL_BYTES, size))
}

/** Returns a buffer nothing refers to any more, if the pool has room for it. */
function giveBack(buffer: FrameBuffer): void {
  const size = buffer.bytes.byteLength
  if (size > POOLED_BUFFER_BYTES || pooledBytes + size > POOL_BYTES) return
  pool.push(buffer)
  pooledBytes += size
}

const EMPTY = new Uint8Array(0)

/** A marker to put before the batch's frames (FORMAT.md › Frame › marker). */
export interface BatchMarker extends Point {
  readonly syncedTo: number
}

/** See the file header. */
export class PendingBatch {
  /** Where appends are encoded; taken from the pool at the first append of a batch. */
  #buffer: FrameBuffer | undefined
  /** Where the queued frames end in `#buffer`; they start at MARKER_FRAME_BYTES. */
  #end = MARKER_FRAME_BYTES
  #frames = 0
  /** The buffer of the batch being written, until `written()`. */
  #inFlight: FrameBuffer | undefined
  /** The size of the last batch taken: the next one is likely alike, so a new buffer starts that big. */
  #lastSize = 0

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
    const chain = encodeFrameAt(this.#buffer!, at, FrameType.commit, seq, prevChain, payload)
    this.#frames++
    return chain
  }

  /** Queues a frame that is already encoded (a copy of it). */
  addFrame(frame: Uint8Array): void {
    const at = this.#reserve(frame.byteLength)
    this.#buffer!.bytes.set(frame, at)
    this.#frames++
  }

  /**
   * The queued frames as one write, after `marker` and before a seal at `seal`, if given. The buffer is then in
   * flight until {@link written}, and appends go to another one.
   */
  take(marker: BatchMarker | undefined, seal: Point | undefined): Uint8Array {
    const buffer = this.#buffer ?? takeBuffer(MARKER_FRAME_BYTES + SEAL_FRAME_BYTES)
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
    this.#buffer = undefined
    this.#lastSize = end
    this.#end = MARKER_FRAME_BYTES
    this.#frames = 0
    return buffer.bytes.subarray(start, end)
  }

  /** The batch taken last was written: its buffer goes back to the pool. */
  written(): void {
    if (this.#inFlight) giveBack(this.#inFlight)
    this.#inFlight = undefined
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
    const buffer = this.#buffer
    if (buffer === undefined) this.#buffer = takeBuffer(Math.max(need, this.#lastSize))
    else if (need > buffer.bytes.byteLength) {
      const grown = frameBuffer(Math.max(need, 2 * buffer.bytes.byteLength))
      grown.bytes.set(buffer.bytes.subarray(0, at))
      giveBack(buffer)
      this.#buffer = grown
    }
    this.#end = at + size
    return at
  }
}
