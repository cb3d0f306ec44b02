// Reads commits back from segment files, for `read`, `readEncoded` and `tail` of both writable and read-only logs.
// It decides no policy of its own beyond what a read must refuse: damage is LOG_CORRUPT, commits compaction
// released are LOG_NEED_SNAPSHOT. Two things make it more than a loop over files:
// - segments change under a read: the active one can roll (it is then read on to its seal) and compaction can
//   release old ones (a segment that vanished is skipped only if it held nothing the read still needs);
// - each segment must start exactly where the previous one ended, or data was skipped.
import { join } from 'node:path'
import { LogCorruptionError, type LogErrorContext, LogReadError } from '../errors.js'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import { chainToHex, FrameType, SEGMENT_HEADER_BYTES, SEGMENT_HEADER_OFFSET, segmentFileName } from './format.js'
import { commitFollows } from './frame-codec.js'
import { type FrameAt, type FrameStop, readFrames } from './frame-reader.js'
import { closeQuietly, openIfExists } from './io.js'
import type { CommitSource, StoredCommit } from './log-parts.js'
import type { LogPositions, Point } from './positions.js'
import { ReadCheckpoints } from './read-checkpoints.js'
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

/** See the file header. */
export class SegmentReader implements CommitSource {
  readonly #deps: SegmentReaderDeps
  readonly #checkpoints = new ReadCheckpoints()

  constructor(deps: SegmentReaderDeps) {
    this.#deps = deps
  }

  async *read(from: number, target: number): AsyncGenerator<StoredCommit, void, undefined> {
    const { segments, fs, dir } = this.#deps
    let pos = from
    let segment: SegmentRef | undefined = segments.containing(from)
    // Where the previous segment ended: the next one must start there (its header says so), or data was skipped.
    let ended: Point | undefined
    while (pos < target && segment) {
      this.#checkContinues(segment, ended, pos)
      const handle = await openIfExists(fs, join(dir, segment.name), 'r')
      if (!handle) {
        segment = this.#afterReleased(segment, pos)
        continue
      }
      // One generator for the whole read (each level of generators costs a promise per commit): the cursor decides
      // about each frame synchronously, and only this loop awaits and yields.
      const cursor = new SegmentCursor(this.#deps, this.#checkpoints, handle, segment, pos, target)
      try {
        let frames = await cursor.start()
        for (;;) {
          const step = await frames.next()
          if (step.done) {
            const more = await cursor.afterStop(step.value)
            if (more === undefined) break
            frames = more
            continue
          }
          const c = cursor.take(step.value)
          if (c === undefined) continue
          if (c === 'end') break
          pos = c.seq
          yield c
          if (cursor.reachedTarget) break
        }
        if (cursor.reachedTarget) return
      } finally {
        await closeQuietly(handle)
      }
      ended = cursor.at
      // The next segment still listed, found by number: compaction may have shortened the list meanwhile.
      const current: SegmentRef = segment
      segment = segments.after(current.number)
      if (!segment && pos < target) throw this.#missingAfter(current, pos)
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
    return corruption(this.#deps.dir, file, offset, seq, problem)
  }
}

/**
 * The commits of one segment after `pos` up to `target`: `take` decides about each frame the reader yields. The
 * segment can stop being the active one meanwhile (a roll): from then on `activeEnd` belongs to the next segment,
 * and this one is read to its seal. A sealed segment is read up to its file size, never further: a damaged length
 * field must not make the reader allocate what the file cannot hold.
 */
class SegmentCursor {
  /** The position after the last commit passed, checked along the chain from the segment's base. */
  readonly at: { seq: number; chain: bigint }
  /** The last commit wanted was returned (or passed): the read is over. */
  reachedTarget = false
  readonly #deps: SegmentReaderDeps
  readonly #checkpoints: ReadCheckpoints
  readonly #handle: FileHandleLike
  readonly #segment: SegmentRef
  readonly #target: number
  #pos: number
  #size = 0

  constructor(
    deps: SegmentReaderDeps,
    checkpoints: ReadCheckpoints,
    handle: FileHandleLike,
    segment: SegmentRef,
    pos: number,
    target: number,
  ) {
    this.#deps = deps
    this.#checkpoints = checkpoints
    this.#handle = handle
    this.#segment = segment
    this.#pos = pos
    this.#target = target
    this.at = { seq: segment.baseSeq, chain: segment.baseChain }
  }

  /** The frames of the segment from its first one, or from the latest checkpoint a read left at or before `pos`. */
  async start(): Promise<AsyncGenerator<FrameAt, FrameStop>> {
    this.#size = this.#isActive() ? 0 : await this.#handle.size()
    const checkpoint = this.#checkpoints.find(this.#segment.number, this.#pos)
    if (checkpoint === undefined || checkpoint.seq < this.#segment.baseSeq) return this.#readFrom(SEGMENT_HEADER_BYTES)
    this.at.seq = checkpoint.seq
    this.at.chain = checkpoint.chain
    return this.#readFrom(checkpoint.offset)
  }

  /**
   * What to do with one frame: the commit to yield, `undefined` to pass over it (a marker, a commit at or before
   * `pos`), or `'end'` (a seal, or past the target). Throws LOG_CORRUPT for a commit that does not follow the chain.
   */
  take({ frame, buffer, at: index, offset }: FrameAt): StoredCommit | 'end' | undefined {
    if (frame.type === FrameType.seal) return 'end'
    if (frame.type !== FrameType.commit) return undefined
    const at = this.at
    if (frame.seq > this.#pos && commitFollows(buffer, index, frame, at.seq, at.chain) !== 'ok') {
      throw corruption(this.#deps.dir, this.#segment.name, offset, at.seq, 'chain')
    }
    at.seq = frame.seq
    at.chain = frame.chain
    const end = offset + frame.size
    if (frame.seq <= this.#pos) {
      if (frame.seq % ReadCheckpoints.EVERY === 0) this.#checkpoints.record(this.#segment.number, at.seq, at.chain, end)
      return undefined
    }
    if (frame.seq > this.#target) {
      this.reachedTarget = true
      return 'end'
    }
    this.#pos = frame.seq
    this.#checkpoints.record(this.#segment.number, at.seq, at.chain, end)
    if (frame.seq >= this.#target) this.reachedTarget = true
    const bytes = buffer.subarray(index, index + frame.size)
    return { seq: frame.seq, chain: chainToHex(frame.chain), payload: frame.payload, frame: bytes }
  }

  /**
   * The frames stopped before a seal. While the segment is active that is the end of what was written (or damage).
   * Once it is not: the file grew since it was active (returns the frames from there on, to read on to its seal),
   * it ends without a seal (`undefined`: the next segment's continuity check decides), or damage (LOG_CORRUPT).
   */
  async afterStop(stop: FrameStop): Promise<AsyncGenerator<FrameAt, FrameStop> | undefined> {
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

  #readFrom(offset: number): AsyncGenerator<FrameAt, FrameStop> {
    return readFrames(this.#handle, offset, () => (this.#isActive() ? this.#deps.activeEnd() : this.#size))
  }
}

function corruption(dir: string, file: string, offset: number, seq: number, problem: string): LogCorruptionError {
  return new LogCorruptionError(`damaged frame in ${file} at byte ${offset} after seq ${seq} (${problem})`, {
    dir,
    file,
    offset,
    seq,
    problem,
  })
}
