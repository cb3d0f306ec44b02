// Group commit: the only writer of segment files after open. Commits appended in one event-loop turn become one
// batch, encoded in place into the buffer it is written from (pending-batch.ts) and written with one write; in
// 'fsync' mode that write is durable when it returns (the active segment is opened with O_DSYNC), or, where the file
// layer cannot give that, one fdatasync follows it. A batch is written inline, on the event loop, where the policy
// in inline-writes.ts allows it: a page-cache write, or a durable one while the loop is idle. Every waiter of the
// batch resolves together. It also seals and rolls segments, and stops for good at the first failed write
// (fail-stop).
//
// What it may assume: it is the only writer of the active segment (the writer lock), and appends arrive checked (by
// the facade) and in seq order. What it guarantees: a waiter resolves only after its commit's batch was durably
// written ('fsync') or written ('os'); a batch never spans segments; a failed write or fdatasync is never retried
// (FORMAT.md › Writing).
import type { LogErrorContext } from '../errors.js'
import { LogFailedError } from '../errors.js'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import { SEGMENT_HEADER_BYTES } from './format.js'
import type { InlineWrites } from './inline-writes.js'
import { violated } from './invariant.js'
import { closeQuietly, writeFully, writeFullySync } from './io.js'
import type { FrameSink } from './log-parts.js'
import { type BatchMarker, PendingBatch } from './pending-batch.js'
import type { LogPositions, Point } from './positions.js'
import type { RecentFrames } from './recent-frames.js'
import { createSegment } from './segment-file.js'
import { type SegmentSet, segmentRef } from './segment-set.js'

interface Waiter {
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface SeqWaiter extends Waiter {
  readonly seq: number
}

/** What group commit needs from the log; it never calls back into the facade except `onWritten`. */
export interface GroupCommitDeps {
  readonly fs: FileLayer
  readonly dir: string
  readonly logId: string
  readonly durability: 'fsync' | 'os'
  readonly segmentBytes: number
  /** Length a new segment file is given up front (0: none); see createSegment. */
  readonly preallocateBytes: number
  readonly segments: SegmentSet
  readonly positions: LogPositions
  /** The active segment as the open left it: open for writing (with `dsync` in 'fsync' mode), valid up to `validEnd`. */
  readonly active: { readonly handle: FileHandleLike; readonly validEnd: number }
  /** Which batches are written with a synchronous write on the event loop. */
  readonly inline: InlineWrites
  /** Keeps a copy of each batch written, for reads at the head (recent-frames.ts); none with `keepRecentBytes: 0`. */
  readonly recent: RecentFrames | undefined
  /** Told after each batch is written and its waiters settled (the facade notifies `onAppend` listeners). */
  readonly onWritten: () => void
  /** Where the log is, for error context. */
  readonly context: () => LogErrorContext
}

/** See the file header. */
export class GroupCommit implements FrameSink {
  readonly #deps: GroupCommitDeps
  #handle: FileHandleLike | undefined
  // Offsets in the active segment, in file order:
  //   | header | synced (durable) | written (reached the OS) | pending (still in memory, not counted) |
  // markedSynced ≤ syncedOffset ≤ writtenOffset. `markedSynced` is what the newest batch marker vouches for: a
  // batch whose predecessor was synced starts with a marker recording `syncedOffset` (FORMAT.md › Frame › marker).
  #writtenOffset: number
  #syncedOffset: number
  #markedSynced: number
  /** Appended frames not yet taken into a batch: the head is past them, `written` is not. */
  readonly #pending = new PendingBatch()
  #flushScheduled = false
  #flushing: Promise<void> | undefined
  #durableWaiters: SeqWaiter[] = []
  #writtenWaiters: SeqWaiter[] = []
  /** Callers of `roll()`: they resolve once the active segment they saw is sealed and a new one is active. */
  #rollWaiters: Waiter[] = []
  #failure: LogFailedError | undefined
  #closed = false

  constructor(deps: GroupCommitDeps) {
    this.#deps = deps
    this.#handle = deps.active.handle
    this.#writtenOffset = this.#syncedOffset = this.#markedSynced = deps.active.validEnd
    this.#check('open')
  }

  get failure(): LogFailedError | undefined {
    return this.#failure
  }

  /** Set once `close()` has closed the active segment: nothing more is written. */
  get closed(): boolean {
    return this.#closed
  }

  /** Where the written frames of the active segment end: readers of this process read up to here. */
  get writtenOffset(): number {
    return this.#writtenOffset
  }

  appendCommit(payload: Uint8Array): number {
    const positions = this.#deps.positions
    const seq = positions.headSeq + 1
    const chain = this.#pending.addCommit(seq, positions.headChain, payload)
    positions.appended(seq, chain)
    this.#scheduleFlush()
    return seq
  }

  appendFrame(frame: Uint8Array, seq: number, chain: bigint): void {
    this.#pending.addFrame(frame)
    this.#deps.positions.appended(seq, chain)
    this.#scheduleFlush()
  }

  sync(): Promise<void> {
    return this.#waitFor(this.#durableWaiters, this.#deps.positions.durable.seq)
  }

  written(): Promise<void> {
    return this.#waitFor(this.#writtenWaiters, this.#deps.positions.written.seq)
  }

  async onDisk(): Promise<void> {
    await this.sync()
    if (this.#deps.durability !== 'os' || !this.#handle || this.#failure) return
    try {
      await this.#handle.datasync()
    } catch (error) {
      throw this.fail(error, 'datasync')
    }
  }

  /**
   * Seals the active segment at the next batch boundary and starts a new one (compaction asks for it so that the
   * old active segment can be released). Resolves once the new segment is active; rejects with the failure.
   */
  roll(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      this.#rollWaiters.push({ resolve, reject })
      this.#scheduleFlush()
    })
  }

  /** Puts the log in the failed state (once) and rejects every waiter; returns the failure to throw. */
  fail(error: unknown, operation: string): LogFailedError {
    if (this.#failure) return this.#failure
    this.#failure = new LogFailedError(
      `the log failed on ${operation} and refuses writes until reopened: ${(error as Error)?.message ?? error}`,
      { ...this.#deps.context(), operation, file: this.#deps.segments.active.name },
      error,
    )
    this.#pending.clear()
    this.abandon(this.#failure)
    return this.#failure
  }

  async close(): Promise<void> {
    if (!this.#failure) await this.sync().catch(() => undefined)
    // Even after a failure a flush may still be finishing a segment roll: closing the handle before it ends would
    // leave the new segment open (the roll makes it the active handle afterwards).
    if (this.#flushing) await this.#flushing
    if (this.#handle && !this.#failure && this.#deps.durability === 'os') {
      await this.#handle.datasync().catch(() => undefined)
    }
    await closeQuietly(this.#handle)
    this.#handle = undefined
    this.#closed = true
  }

  abandon(closed: Error): void {
    const error = this.#failure ?? closed
    for (const w of this.#durableWaiters.splice(0)) w.reject(error)
    for (const w of this.#writtenWaiters.splice(0)) w.reject(error)
    for (const w of this.#rollWaiters.splice(0)) w.reject(error)
  }

  #waitFor(list: SeqWaiter[], reached: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    const seq = this.#deps.positions.headSeq
    if (reached >= seq) return Promise.resolve()
    return new Promise((resolve, reject) => list.push({ seq, resolve, reject }))
  }

  #wantsFlush(): boolean {
    return (this.#pending.frames > 0 || this.#rollWaiters.length > 0) && !this.#failure && this.#handle !== undefined
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#flushing) return
    this.#flushScheduled = true
    // At the end of the turn: everything appended in this turn goes into one batch.
    setImmediate(() => {
      this.#flushScheduled = false
      if (this.#flushing) return
      this.#flushing = this.#flushLoop().finally(() => {
        this.#flushing = undefined
        // Appends made between the loop's last check and now found it still running: start again for them.
        if (this.#wantsFlush()) this.#scheduleFlush()
      })
    })
  }

  /**
   * Writes pending frames in batches until none is left: one write per batch, durable when it returns on a dsync
   * handle; otherwise followed by one fdatasync in 'fsync' mode (and before every roll).
   */
  async #flushLoop(): Promise<void> {
    try {
      while (this.#wantsFlush()) {
        const handle = this.#handle!
        const batch = this.#takeBatch()
        const writing = this.#write(handle, batch.bytes)
        if (writing) await writing
        this.#deps.recent?.add(batch.bytes, this.#deps.positions.written.seq, batch.end.seq)
        this.#pending.written()
        this.#writtenOffset += batch.bytes.byteLength
        this.#deps.positions.wrote(batch.end)
        settle(this.#writtenWaiters, batch.end.seq)
        if (handle.dsync === true) {
          this.#syncedOffset = this.#writtenOffset
        } else if (this.#deps.durability === 'fsync' || batch.roll) {
          await handle.datasync()
          this.#syncedOffset = this.#writtenOffset
        }
        this.#deps.positions.synced(batch.end)
        settle(this.#durableWaiters, batch.end.seq)
        this.#check('flush')
        this.#deps.onWritten()
        if (batch.roll) await this.#roll(batch.end)
      }
    } catch (error) {
      this.fail(error, 'write')
    }
  }

  /**
   * Writes a batch at the written offset: inline where the policy allows it (inline-writes.ts: a handle with
   * `writeSync`; a page-cache write, or a durable one while the loop is idle; no recent slow write), else through
   * the threadpool (the promise returned).
   */
  #write(handle: FileHandleLike, bytes: Uint8Array): Promise<void> | undefined {
    const inline = this.#deps.inline
    const durable = handle.dsync === true
    if (handle.writeSync === undefined || !inline.allows(bytes.byteLength, durable)) {
      return writeFully(handle, bytes, this.#writtenOffset)
    }
    const startedAt = inline.now()
    writeFullySync(handle, bytes, this.#writtenOffset)
    inline.finished(startedAt, durable)
    return undefined
  }

  /** Everything pending as one buffer: a marker first if the previous batch was synced, a seal last if it rolls. */
  #takeBatch(): { bytes: Uint8Array; end: Point; roll: boolean } {
    const { positions, durability, segmentBytes } = this.#deps
    let marker: BatchMarker | undefined
    if (durability === 'fsync' && this.#syncedOffset > this.#markedSynced && this.#pending.frames > 0) {
      marker = { ...positions.written, syncedTo: this.#syncedOffset }
      this.#markedSynced = this.#syncedOffset
    }
    const end = { seq: positions.headSeq, chain: positions.headChain }
    // A batch never spans segments: the one that crosses `segmentBytes` ends the segment (FORMAT.md › Writing).
    const roll = this.#rollWaiters.length > 0 || this.#writtenOffset + this.#pending.bytes >= segmentBytes
    return { bytes: this.#pending.take(marker, roll ? end : undefined), end, roll }
  }

  /** The active segment was sealed and made durable at `at`: create the next one and make it active. */
  async #roll(at: Point): Promise<void> {
    const { fs, dir, logId, segments } = this.#deps
    const asked = this.#rollWaiters.length
    const number = segments.active.number + 1
    const header = { number, logId, baseSeq: at.seq, baseChain: at.chain }
    const old = this.#handle!
    // The sealed segment keeps its data only: the zeros preallocated past its seal go (FORMAT.md › Writing). Not
    // made durable on purpose: zeros after a seal read as the end of the segment if a crash brings them back.
    const sealedEnd = this.#writtenOffset
    if ((await old.size()) > sealedEnd) await old.truncate(sealedEnd)
    const dsync = this.#deps.durability === 'fsync'
    const handle = await createSegment(fs, dir, header, { dsync, preallocateBytes: this.#deps.preallocateBytes })
    this.#handle = handle
    segments.rolled(segmentRef(number, at.seq, at.chain))
    this.#writtenOffset = this.#syncedOffset = this.#markedSynced = SEGMENT_HEADER_BYTES
    this.#check('roll')
    await closeQuietly(old)
    for (const w of this.#rollWaiters.splice(0, asked)) w.resolve()
  }

  #check(transition: string): void {
    const marked = this.#markedSynced
    const synced = this.#syncedOffset
    const written = this.#writtenOffset
    if (!(SEGMENT_HEADER_BYTES <= marked && marked <= synced && synced <= written)) {
      const values = { transition, markedSynced: marked, syncedOffset: synced, writtenOffset: written }
      violated('markedSynced≤syncedOffset≤writtenOffset', values)
    }
    const { positions } = this.#deps
    if (this.#pending.frames === 0 && positions.written.seq !== positions.headSeq) {
      violated('pending-covers-head', { transition, written: positions.written.seq, head: positions.headSeq })
    }
  }
}

/** Resolves the waiters (kept in seq order) whose seq is at most `seq`. */
function settle(list: SeqWaiter[], seq: number): void {
  let n = 0
  while (n < list.length && list[n]!.seq <= seq) n++
  if (n === 0) return
  for (const w of list.splice(0, n)) w.resolve()
}
