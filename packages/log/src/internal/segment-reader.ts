// Reads commits back from segment files, for `read`, `readEncoded` and `tail` of both writable and read-only logs.
// It decides no policy of its own beyond what a read must refuse: damage is LOG_CORRUPT, commits compaction
// released are LOG_NEED_SNAPSHOT. Two things make it more than a loop over files:
// - segments change under a read: the active one can roll (it is then read on to its seal) and compaction can
//   release old ones (a segment that vanished is skipped only if it held nothing the read still needs);
// - each segment must start exactly where the previous one ended, or data was skipped.
import { join } from 'node:path'
import { LogCorruptionError, type LogErrorContext, LogReadError } from '../errors.js'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import {
  chainToHex,
  commitFollows,
  FrameType,
  SEGMENT_HEADER_BYTES,
  SEGMENT_HEADER_OFFSET,
  segmentFileName,
} from './format.js'
import { type FrameAt, type FrameStop, readFrames } from './frame-reader.js'
import { closeQuietly, openIfExists } from './io.js'
import type { CommitSource, StoredCommit } from './log-parts.js'
import type { LogPositions, Point } from './positions.js'
import type { SegmentRef, SegmentSet } from './segment-set.js'

/** What the reader needs from the log. */
export interface SegmentReaderDeps {
  readonly fs: FileLayer
  readonly dir: string
  readonly segments: SegmentSet
  readonly positions: LogPositions
  /** Where the frames of the active segment that this log has written (or followed) end. */
  readonly activeEnd: () => number
  readonly context: () => LogErrorContext
}

/** The read's progress: the last commit yielded, and the target it stops at. */
interface Cursor {
  pos: number
  readonly target: number
}

/** How reading one segment ended: at the target, or at its end (seal, or the end of its frames) at `end`. */
type SegmentEnd = { readonly done: true } | { readonly done: false; readonly end: Point }

/** See the file header. */
export class SegmentReader implements CommitSource {
  readonly #deps: SegmentReaderDeps

  constructor(deps: SegmentReaderDeps) {
    this.#deps = deps
  }

  async *read(from: number, target: number): AsyncGenerator<StoredCommit, void, undefined> {
    const { segments } = this.#deps
    const cursor: Cursor = { pos: from, target }
    let segment: SegmentRef | undefined = segments.containing(from)
    // Where the previous segment ended: the next one must start there (its header says so), or data was skipped.
    let ended: Point | undefined
    while (cursor.pos < target && segment) {
      this.#checkContinues(segment, ended, cursor.pos)
      const handle = await openIfExists(this.#deps.fs, join(this.#deps.dir, segment.name), 'r')
      if (!handle) {
        segment = this.#afterReleased(segment, cursor.pos)
        continue
      }
      let result: SegmentEnd
      try {
        result = yield* this.#readSegment(handle, segment, cursor)
      } finally {
        await closeQuietly(handle)
      }
      if (result.done) return
      ended = result.end
      // The next segment still listed, found by number: compaction may have shortened the list meanwhile.
      const current: SegmentRef = segment
      segment = segments.after(current.number)
      if (!segment && cursor.pos < target) throw this.#missingAfter(current, cursor.pos)
    }
  }

  /** A segment must start where the one read before it ended. */
  #checkContinues(segment: SegmentRef, ended: Point | undefined, pos: number): void {
    if (!ended || (segment.baseSeq === ended.seq && segment.baseChain === ended.chain)) return
    if (pos < this.#deps.positions.start.seq) throw this.#released(pos)
    throw this.#corruption(
      segment.name,
      SEGMENT_HEADER_OFFSET.baseSeq,
      ended.seq,
      'does not continue the previous segment',
    )
  }

  /**
   * `segment` was released while the read went on. If the next segment still listed starts at or before `pos`, it
   * held nothing the read still needs (an empty segment): go on with that one. Otherwise the commits are gone.
   */
  #afterReleased(segment: SegmentRef, pos: number): SegmentRef {
    const next = this.#deps.segments.after(segment.number)
    if (next && next.baseSeq <= pos) return next
    throw new LogReadError(`segment ${segment.name} was released by compaction; load the snapshot first`, {
      ...this.#deps.context(),
      from: pos,
      file: segment.name,
    })
  }

  /**
   * Yields the commits of one segment after `cursor.pos` up to `cursor.target`. The segment can stop being the active
   * one meanwhile (a roll): from then on `activeEnd` belongs to the next segment, and this one is read to its seal.
   * A sealed segment is read up to its file size, never further: a damaged length field must not make the reader
   * allocate what the file cannot hold.
   */
  async *#readSegment(
    handle: FileHandleLike,
    segment: SegmentRef,
    cursor: Cursor,
  ): AsyncGenerator<StoredCommit, SegmentEnd> {
    const { segments, activeEnd } = this.#deps
    const isActive = () => segments.isActive(segment)
    const at = { seq: segment.baseSeq, chain: segment.baseChain }
    let size = isActive() ? 0 : await handle.size()
    let from = SEGMENT_HEADER_BYTES
    for (;;) {
      const frames = readFrames(handle, from, () => (isActive() ? activeEnd() : size))
      const stop = yield* this.#readFrames(frames, segment, at, cursor)
      if (stop === 'target') return { done: true }
      if (stop === 'seal') return { done: false, end: at }
      if (isActive()) {
        if (stop.problem === 'eof') return { done: false, end: at }
        throw this.#corruption(segment.name, stop.offset, at.seq, stop.problem)
      }
      const grown = await this.#afterStop(handle, segment, stop, at.seq)
      if (grown === undefined) return { done: false, end: at }
      // It was the active segment when the limit was read: go on to its seal.
      size = grown
      from = stop.offset
    }
  }

  /**
   * Where a sealed (or no longer active) segment's frames stopped before a seal: at the end of what was read while
   * it was active (the file has grown since: returns the new size to read on to), at its end without a seal (the
   * next segment's continuity check decides), or at damage (LOG_CORRUPT).
   */
  async #afterStop(
    handle: FileHandleLike,
    segment: SegmentRef,
    stop: FrameStop,
    seq: number,
  ): Promise<number | undefined> {
    if (stop.problem === 'eof') {
      const now = await handle.size()
      return stop.offset < now ? now : undefined
    }
    if (stop.problem === 'short') return undefined
    throw this.#corruption(segment.name, stop.offset, seq, stop.problem)
  }

  /**
   * Runs one pass of the frame reader, moving `at` along the chain and yielding the commits after `cursor.pos`.
   * Returns `'seal'`, `'target'` (the last commit wanted was yielded) or where the reader stopped.
   */
  async *#readFrames(
    frames: AsyncGenerator<FrameAt, FrameStop>,
    segment: SegmentRef,
    at: { seq: number; chain: bigint },
    cursor: Cursor,
  ): AsyncGenerator<StoredCommit, 'seal' | 'target' | FrameStop> {
    for (;;) {
      const next = await frames.next()
      if (next.done) return next.value
      const { frame, buffer, at: index, offset } = next.value
      if (frame.type === FrameType.seal) return 'seal'
      if (frame.type !== FrameType.commit) continue
      if (frame.seq > cursor.pos && commitFollows(buffer, index, frame, at.seq, at.chain) !== 'ok') {
        throw this.#corruption(segment.name, offset, at.seq, 'chain')
      }
      at.seq = frame.seq
      at.chain = frame.chain
      if (frame.seq <= cursor.pos) continue
      if (frame.seq > cursor.target) return 'target'
      cursor.pos = frame.seq
      const bytes = buffer.subarray(index, index + frame.size)
      yield { seq: frame.seq, chain: chainToHex(frame.chain), payload: frame.payload, frame: bytes }
      if (frame.seq >= cursor.target) return 'target'
    }
  }

  /** The segments after `segment` are gone although commits up to the target should follow. */
  #missingAfter(segment: SegmentRef, pos: number): LogReadError | LogCorruptionError {
    if (pos < this.#deps.positions.start.seq) return this.#released(pos)
    return this.#corruption(segmentFileName(segment.number + 1), 0, pos, 'missing segment')
  }

  #released(pos: number): LogReadError {
    return new LogReadError(`commits after seq ${pos} were released by compaction; load the snapshot first`, {
      ...this.#deps.context(),
      from: pos,
      start: this.#deps.positions.start.seq,
    })
  }

  #corruption(file: string, offset: number, seq: number, problem: string): LogCorruptionError {
    return new LogCorruptionError(`damaged frame in ${file} at byte ${offset} after seq ${seq} (${problem})`, {
      dir: this.#deps.dir,
      file,
      offset,
      seq,
      problem,
    })
  }
}
