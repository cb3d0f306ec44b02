// Reads commits back from segment files, for `read`, `readEncoded` and `tail` of both writable and read-only logs.
// It decides no policy of its own beyond what a read must refuse: damage is LOG_CORRUPT, commits compaction
// released are LOG_NEED_SNAPSHOT. Two things make it more than a loop over files:
// - segments change under a read: the active one can roll (it is then read on to its seal) and compaction can
//   release old ones (a segment that vanished is skipped only if it held nothing the read still needs);
// - each segment must start exactly where the previous one ended, or data was skipped.
import { join } from 'node:path'
import { type LogCorruptionError, type LogErrorContext, LogReadError } from '../errors.js'
import type { FileLayer } from '../file-layer.js'
import { SEGMENT_HEADER_OFFSET, segmentFileName } from './format.js'
import { closeQuietly, openIfExists } from './io.js'
import type { CommitSource, ReadCommit } from './log-parts.js'
import type { LogPositions, Point } from './positions.js'
import { ReadCheckpoints } from './read-checkpoints.js'
import type { RecentFrames } from './recent-frames.js'
import { corruption, SegmentCursor } from './segment-cursor.js'
import type { SegmentRef, SegmentSet } from './segment-set.js'

/** What the reader needs from the log. */
export interface SegmentReaderDeps {
  readonly fs: FileLayer
  readonly dir: string
  readonly segments: SegmentSet
  readonly positions: LogPositions
  /** Where the frames of the active segment that this log has written (or followed) end. */
  readonly activeEnd: () => number
  /** The newest batches a writable log wrote, kept in memory: reads they cover need no file. */
  readonly recent: RecentFrames | undefined
  readonly context: () => LogErrorContext
}

/** See the file header. */
export class SegmentReader implements CommitSource {
  readonly #deps: SegmentReaderDeps
  readonly #checkpoints = new ReadCheckpoints()

  constructor(deps: SegmentReaderDeps) {
    this.#deps = deps
  }

  reading(): void {
    this.#deps.recent?.arm()
  }

  async *read(from: number, target: number, encoded: boolean): AsyncGenerator<ReadCommit[], void, undefined> {
    const kept = this.#deps.recent?.read(from, target, encoded)
    if (kept !== undefined) {
      yield kept
      return
    }
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
      // One generator for the whole read, stepping once per window of frames: the cursor decides about each frame
      // synchronously, and only loading the next window awaits.
      const cursor = new SegmentCursor(this.#deps, this.#checkpoints, handle, { segment, pos, target, encoded })
      try {
        await cursor.start()
        for (let batch = await cursor.nextBatch(); batch !== undefined; batch = await cursor.nextBatch()) {
          pos = batch[batch.length - 1]!.seq
          yield batch
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
