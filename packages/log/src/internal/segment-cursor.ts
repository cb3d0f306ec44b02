// The commits of one segment for a read (segment-reader.ts), a window of frames at a time: each frame is decided
// synchronously (a commit to hand out, one to pass over, the end), and only loading the next window awaits, so a
// read costs a promise per window instead of one per commit. Damage in the frames it reads is LOG_CORRUPT.
import { LogCorruptionError } from '../errors.js'
import type { FileHandleLike } from '../file-layer.js'
import { chainToHex, FrameType, SEGMENT_HEADER_BYTES } from './format.js'
import { commitFollows, type DecodedFrame } from './frame-codec.js'
import { FrameCursor, type FrameStop } from './frame-reader.js'
import type { ReadCommit } from './log-parts.js'
import { ReadCheckpoints } from './read-checkpoints.js'
import type { SegmentRef, SegmentSet } from './segment-set.js'

/** What a cursor needs from the log (the reader's dependencies give it). */
export interface SegmentCursorDeps {
  readonly dir: string
  readonly segments: Pick<SegmentSet, 'isActive'>
  /** Where the frames of the active segment that this log has written (or followed) end. */
  readonly activeEnd: () => number
}

/**
 * The commits of one segment after `pos` up to `target`, in batches. The segment can stop being the active one
 * meanwhile (a roll): from then on `activeEnd` belongs to the next segment, and this one is read to its seal. A
 * sealed segment is read up to its file size, never further: a damaged length field must not make the reader
 * allocate what the file cannot hold.
 */
export class SegmentCursor {
  /** The position after the last commit passed, checked along the chain from the segment's base. */
  readonly at: { seq: number; chain: bigint }
  /** The last commit wanted was handed out (or passed): the read is over. */
  reachedTarget = false
  readonly #deps: SegmentCursorDeps
  readonly #checkpoints: ReadCheckpoints
  readonly #handle: FileHandleLike
  readonly #segment: SegmentRef
  readonly #target: number
  readonly #encoded: boolean
  #pos: number
  #size = 0
  #frames: FrameCursor | undefined
  /** A seal, the target or the end of the frames was met: no more batches. */
  #done = false
  /** Damage met after commits of the same window: thrown by the next call, once those commits were handed out. */
  #damage: Error | undefined

  constructor(
    deps: SegmentCursorDeps,
    checkpoints: ReadCheckpoints,
    handle: FileHandleLike,
    read: { readonly segment: SegmentRef; readonly pos: number; readonly target: number; readonly encoded: boolean },
  ) {
    this.#deps = deps
    this.#checkpoints = checkpoints
    this.#handle = handle
    this.#segment = read.segment
    this.#pos = read.pos
    this.#target = read.target
    this.#encoded = read.encoded
    this.at = { seq: read.segment.baseSeq, chain: read.segment.baseChain }
  }

  /** Starts at the segment's first frame, or at the latest checkpoint a read left at or before `pos`. */
  async start(): Promise<void> {
    this.#size = this.#isActive() ? 0 : await this.#handle.size()
    const checkpoint = this.#checkpoints.find(this.#segment.number, this.#pos)
    if (checkpoint === undefined || checkpoint.seq < this.#segment.baseSeq) {
      this.#frames = this.#readFrom(SEGMENT_HEADER_BYTES)
      return
    }
    this.at.seq = checkpoint.seq
    this.at.chain = checkpoint.chain
    this.#frames = this.#readFrom(checkpoint.offset)
  }

  /** The next commits wanted (at most a window's worth, never empty), or `undefined` once the segment is done. */
  async nextBatch(): Promise<ReadCommit[] | undefined> {
    if (this.#damage) throw this.#damage
    while (!this.#done) {
      const frames = this.#frames!
      const batch = this.#takeWindow(frames)
      if (batch.length > 0) return batch
      if (this.#done) break
      const stop = frames.stop
      if (stop === undefined) await frames.load()
      else {
        this.#frames = await this.#afterStop(stop)
        if (this.#frames === undefined) this.#done = true
      }
    }
    return undefined
  }

  /** The commits wanted among the frames of the window in hand (it decides every frame there, or up to the end). */
  #takeWindow(frames: FrameCursor): ReadCommit[] {
    const batch: ReadCommit[] = []
    let end = -1
    for (let frame = frames.next(); frame !== undefined; frame = frames.next()) {
      let taken: ReadCommit | 'end' | undefined
      try {
        taken = this.#take(frame, frames)
      } catch (error) {
        // The commits before the damage are handed out first, as a read one commit at a time would.
        if (batch.length === 0) throw error
        this.#damage = error as Error
        break
      }
      if (taken === 'end') {
        this.#done = true
        break
      }
      if (taken === undefined) continue
      batch.push(taken)
      end = frames.frameOffset + frame.size
      if (this.reachedTarget) {
        this.#done = true
        break
      }
    }
    // Where a later read of the newest commits can start (ReadCheckpoints keeps the newest and every EVERY-th).
    if (end >= 0) this.#checkpoints.record(this.#segment.number, this.at.seq, this.at.chain, end)
    return batch
  }

  /**
   * What to do with one frame: the commit to hand out, `undefined` to pass over it (a marker, a commit at or before
   * `pos`), or `'end'` (a seal, or past the target). Throws LOG_CORRUPT for a commit that does not follow the chain.
   */
  #take(frame: DecodedFrame, frames: FrameCursor): ReadCommit | 'end' | undefined {
    if (frame.type === FrameType.seal) return 'end'
    if (frame.type !== FrameType.commit) return undefined
    const at = this.at
    if (frame.seq > this.#pos && commitFollows(frames.buffer, frames.at, frame, at.seq, at.chain) !== 'ok') {
      throw corruption(this.#deps.dir, this.#segment.name, frames.frameOffset, at.seq, 'chain')
    }
    if (frame.seq > this.#target) {
      this.reachedTarget = true
      return 'end'
    }
    at.seq = frame.seq
    at.chain = frame.chain
    if (frame.seq % ReadCheckpoints.EVERY === 0) {
      this.#checkpoints.record(this.#segment.number, at.seq, at.chain, frames.frameOffset + frame.size)
    }
    if (frame.seq <= this.#pos) return undefined
    this.#pos = frame.seq
    if (frame.seq >= this.#target) this.reachedTarget = true
    const chain = chainToHex(frame.chain)
    if (!this.#encoded) return { seq: frame.seq, chain, payload: frame.payload }
    return { seq: frame.seq, chain, frame: frames.buffer.subarray(frames.at, frames.at + frame.size) }
  }

  /**
   * The frames stopped before a seal. While the segment is active that is the end of what was written (or damage).
   * Once it is not: the file grew since it was active (returns the frames from there on, to read on to its seal),
   * it ends without a seal (`undefined`: the next segment's continuity check decides), or damage (LOG_CORRUPT).
   */
  async #afterStop(stop: FrameStop): Promise<FrameCursor | undefined> {
    const damaged = () => corruption(this.#deps.dir, this.#segment.name, stop.offset, this.at.seq, stop.problem)
    if (this.#isActive()) {
      if (stop.problem === 'eof') return undefined
      throw damaged()
    }
    if (stop.problem === 'short') return undefined
    if (stop.problem !== 'eof') throw damaged()
    const now = await this.#handle.size()
    if (stop.offset >= now) return undefined
    this.#size = now
    return this.#readFrom(stop.offset)
  }

  #isActive(): boolean {
    return this.#deps.segments.isActive(this.#segment)
  }

  #readFrom(offset: number): FrameCursor {
    return new FrameCursor(this.#handle, offset, () => (this.#isActive() ? this.#deps.activeEnd() : this.#size))
  }
}

/** The LOG_CORRUPT error of damage met while reading segment `file` at `offset`, after `seq`. */
export function corruption(
  dir: string,
  file: string,
  offset: number,
  seq: number,
  problem: string,
): LogCorruptionError {
  return new LogCorruptionError(`damaged frame in ${file} at byte ${offset} after seq ${seq} (${problem})`, {
    dir,
    file,
    offset,
    seq,
    problem,
  })
}
