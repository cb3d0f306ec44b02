// The Log implementation: group commit, segment rolling, recovery, read-only following, snapshots and retention.
// File modes and memory mode share this class; memory mode keeps encoded frames in an array instead of files.
import { join } from 'node:path'
import { LogCorruptionError, LogFailedError, LogInputError, LogSnapshotError, LogStateError } from '../errors.js'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import type {
  Commit,
  Durability,
  EncodedCommit,
  Log,
  Position,
  RecoveryReport,
  Snapshot,
  SnapshotData,
  SnapshotInfo,
} from '../types.js'
import {
  asBuffer,
  chainToHex,
  commitFollows,
  decodeFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameType,
  markerPayload,
  parseSegmentFileName,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from './format.js'
import { readFrames } from './frame-reader.js'
import { asLogError } from './io-errors.js'
import { createSegment, readSegmentHeader } from './segment-file.js'
import { listSnapshots, loadSnapshot, type SnapshotEntry, snapshotsIn, writeSnapshotFile } from './snapshot-file.js'

/** A segment file as the log knows it. */
export interface SegmentRef {
  number: number
  name: string
  baseSeq: number
  baseChain: bigint
}

interface Waiter {
  seq: number
  resolve: () => void
  reject: (error: unknown) => void
}

export interface HomeLogInit {
  dir: string | undefined
  fs: FileLayer | undefined
  durability: Durability
  readOnly: boolean
  logId: string
  segmentBytes: number
  maxPayloadBytes: number
  followIntervalMs: number
  segments: SegmentRef[]
  /** Active (last) segment: open handle and the offset where valid data ends. */
  active: { handle: FileHandleLike; validEnd: number; sealed: boolean } | undefined
  head: { seq: number; chain: bigint }
  start: { seq: number; chain: bigint }
  recovery: RecoveryReport
  releaseLock: (() => Promise<void>) | undefined
  snapshots: SnapshotEntry[]
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

export class HomeLog implements Log {
  readonly logId: string
  readonly dir: string | undefined
  readonly durability: Durability
  readonly readOnly: boolean
  readonly recovery: RecoveryReport

  private readonly fs: FileLayer | undefined
  private readonly segmentBytes: number
  private readonly maxPayloadBytes: number
  private readonly followIntervalMs: number
  private segments: SegmentRef[]
  private snapshots: SnapshotEntry[]
  private handle: FileHandleLike | undefined
  private releaseLock: (() => Promise<void>) | undefined

  // Positions. head includes appends not yet written; written/durable trail it.
  private headSeq: number
  private headChain: bigint
  private headCache: Position | undefined
  private writtenSeq: number
  private writtenChain: bigint
  private durableSeq: number
  private startSeq: number
  private startChain: bigint

  // Active segment offsets.
  private writtenOffset: number
  private syncedOffset: number
  private markedSynced: number
  private activeSealed: boolean

  // Group commit.
  private pending: Buffer[] = []
  private pendingBytes = 0
  private flushScheduled = false
  private flushing: Promise<void> | undefined
  private rollRequested = false
  private waiters: Waiter[] = []
  private writtenWaiters: Waiter[] = []

  // Memory mode.
  private readonly memoryFrames: EncodedCommit[] = []
  private memorySnapshot: { info: SnapshotInfo; chunks: Uint8Array[] } | undefined

  private holds = new Map<string, number>()
  /**
   * Read checkpoints per segment (recent segments only): the offset just past a commit frame a read verified, with
   * its seq and chain, every 64th seq and the last one read. A read from a seq at or after a checkpoint starts there
   * instead of scanning the segment from its header, so reading the newest commits again and again (a shipper, a
   * home answering tails) costs O(new frames), not O(segment).
   */
  private readonly readIndex = new Map<number, { seq: number; chain: bigint; offset: number }[]>()

  private checkpoint(number: number, seq: number, chain: bigint, offset: number): void {
    let list = this.readIndex.get(number)
    if (list === undefined) {
      list = []
      this.readIndex.set(number, list)
      if (this.readIndex.size > 8) this.readIndex.delete(this.readIndex.keys().next().value!)
    }
    const last = list[list.length - 1]
    if (last !== undefined && last.seq >= seq) return
    if (last !== undefined && last.seq % 64 !== 0) list.pop() // keep only every 64th, plus the newest
    list.push({ seq, chain, offset })
  }

  private checkpointFor(number: number, pos: number): { seq: number; chain: bigint; offset: number } | undefined {
    const list = this.readIndex.get(number)
    if (list === undefined) return undefined
    let found: { seq: number; chain: bigint; offset: number } | undefined
    for (let lo = 0, hi = list.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1
      if (list[mid]!.seq <= pos) {
        found = list[mid]
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }
  private appendListeners = new Set<(head: Position) => void>()
  private followTimer: NodeJS.Timeout | undefined
  private following: Promise<void> | undefined
  /** The file layer's directory watch, if it has one (read-only). */
  private followWatch: { close(): void } | undefined
  /** A change was noticed while a look was running: look again as soon as it ends. */
  private followAgain = false
  private followStopped = false
  private closeWakers = new Set<() => void>()
  private failed: Error | undefined
  private isClosed = false
  private closing: Promise<void> | undefined

  constructor(init: HomeLogInit) {
    this.logId = init.logId
    this.dir = init.dir
    this.fs = init.fs
    this.durability = init.durability
    this.readOnly = init.readOnly
    this.recovery = init.recovery
    this.segmentBytes = init.segmentBytes
    this.maxPayloadBytes = init.maxPayloadBytes
    this.followIntervalMs = init.followIntervalMs
    this.segments = init.segments
    this.snapshots = init.snapshots
    this.handle = init.active?.handle
    this.releaseLock = init.releaseLock
    this.headSeq = this.writtenSeq = this.durableSeq = init.head.seq
    this.headChain = this.writtenChain = init.head.chain
    this.startSeq = init.start.seq
    this.startChain = init.start.chain
    this.writtenOffset = this.syncedOffset = init.active?.validEnd ?? 0
    this.markedSynced = this.syncedOffset
    this.activeSealed = init.active?.sealed ?? false
    if (this.readOnly && this.fs) this.startFollowing()
  }

  get head(): Position {
    if (this.headCache === undefined)
      this.headCache = Object.freeze({ seq: this.headSeq, chain: chainToHex(this.headChain) })
    return this.headCache
  }

  get start(): Position {
    return { seq: this.startSeq, chain: chainToHex(this.startChain) }
  }

  get failure(): Error | undefined {
    return this.failed
  }

  get closed(): boolean {
    return this.isClosed
  }

  private context(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { dir: this.dir, seq: this.headSeq, ...extra }
  }

  private assertWritable(): void {
    if (this.isClosed || this.closing) throw new LogStateError('LOG_CLOSED', 'the log is closed', this.context())
    if (this.readOnly) throw new LogStateError('LOG_READ_ONLY', 'the log was opened read-only', this.context())
    if (this.failed) throw this.failed
  }

  // ---------------------------------------------------------------- appends

  append(payload: Uint8Array): number {
    this.assertWritable()
    if (!(payload instanceof Uint8Array)) {
      throw new LogInputError('LOG_BAD_FRAME', 'payload must be a Uint8Array', this.context({ got: typeof payload }))
    }
    if (payload.byteLength > this.maxPayloadBytes) {
      throw new LogInputError(
        'LOG_FRAME_TOO_LARGE',
        `payload of ${payload.byteLength} bytes is over the limit of ${this.maxPayloadBytes}`,
        this.context({ bytes: payload.byteLength, limit: this.maxPayloadBytes }),
      )
    }
    const seq = this.headSeq + 1
    const { frame, chain } = encodeFrame(FrameType.commit, seq, this.headChain, payload)
    this.enqueue(frame, seq, chain)
    return seq
  }

  appendEncoded(frames: readonly Uint8Array[]): number {
    this.assertWritable()
    let seq = this.headSeq
    let chain = this.headChain
    const accepted: { frame: Buffer; seq: number; chain: bigint }[] = []
    for (const [index, bytes] of frames.entries()) {
      if (!(bytes instanceof Uint8Array)) {
        throw new LogInputError('LOG_BAD_FRAME', `frame ${index} is not a Uint8Array`, this.context({ index }))
      }
      const buf = asBuffer(bytes)
      const decoded = decodeFrame(buf, 0, buf.byteLength)
      if (typeof decoded === 'string' || decoded.size !== buf.byteLength || decoded.type !== FrameType.commit) {
        const problem = typeof decoded === 'string' ? decoded : decoded.size !== buf.byteLength ? 'length' : 'type'
        throw new LogInputError(
          'LOG_BAD_FRAME',
          `frame ${index} is not a valid commit frame (${problem})`,
          this.context({ index, problem }),
        )
      }
      if (decoded.payload.byteLength > this.maxPayloadBytes) {
        throw new LogInputError(
          'LOG_FRAME_TOO_LARGE',
          `frame ${index} payload is over the limit`,
          this.context({ index }),
        )
      }
      const follows = commitFollows(buf, 0, decoded, seq, chain)
      if (follows !== 'ok') {
        throw new LogInputError(
          'LOG_POSITION_MISMATCH',
          follows === 'seq'
            ? `frame ${index} has seq ${decoded.seq}, expected ${seq + 1}`
            : `frame ${index} (seq ${decoded.seq}) does not follow chain ${chainToHex(chain)}`,
          this.context({ index, expectedSeq: seq + 1, frameSeq: decoded.seq, chain: chainToHex(chain) }),
        )
      }
      seq = decoded.seq
      chain = decoded.chain
      accepted.push({ frame: Buffer.from(buf), seq, chain })
    }
    for (const a of accepted) this.enqueue(a.frame, a.seq, a.chain)
    return this.headSeq
  }

  private enqueue(frame: Buffer, seq: number, chain: bigint): void {
    this.headSeq = seq
    this.headChain = chain
    this.headCache = undefined
    if (!this.fs) {
      this.memoryFrames.push({ seq, chain: chainToHex(chain), frame })
      this.writtenSeq = this.durableSeq = seq
      this.writtenChain = chain
      this.scheduleNotify()
      return
    }
    this.pending.push(frame)
    this.pendingBytes += frame.byteLength
    this.scheduleFlush()
  }

  private notifyScheduled = false
  private scheduleNotify(): void {
    if (this.notifyScheduled) return
    this.notifyScheduled = true
    queueMicrotask(() => {
      this.notifyScheduled = false
      this.notifyAppend()
    })
  }

  private notifyAppend(): void {
    if (this.appendListeners.size === 0) return
    const head = { seq: this.writtenSeq, chain: chainToHex(this.writtenChain) }
    for (const listener of [...this.appendListeners]) {
      try {
        listener(head)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      if (this.flushing) return
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined
        // Appends made between the loop's last check and now found it still running: start again for them.
        if ((this.pending.length > 0 || this.rollRequested) && !this.failed) this.scheduleFlush()
      })
    })
  }

  /** Writes pending frames in batches: one write (+ one fdatasync in 'fsync' mode) per batch. */
  private async flushLoop(): Promise<void> {
    try {
      while ((this.pending.length > 0 || this.rollRequested) && !this.failed && this.handle) {
        const handle = this.handle
        const parts: Buffer[] = []
        if (this.durability === 'fsync' && this.syncedOffset > this.markedSynced && this.pending.length > 0) {
          parts.push(
            encodeFrame(FrameType.marker, this.writtenSeq, this.writtenChain, markerPayload(this.syncedOffset)).frame,
          )
          this.markedSynced = this.syncedOffset
        }
        const batchSeq = this.headSeq
        const batchChain = this.headChain
        parts.push(...this.pending)
        const batchBytes = this.pendingBytes
        this.pending = []
        this.pendingBytes = 0
        const roll = this.rollRequested || this.writtenOffset + batchBytes >= this.segmentBytes
        if (roll) parts.push(encodeFrame(FrameType.seal, batchSeq, batchChain, new Uint8Array(0)).frame)
        const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
        let done = 0
        while (done < buf.byteLength) {
          done += await handle.write(buf, done, buf.byteLength - done, this.writtenOffset + done)
        }
        this.writtenOffset += buf.byteLength
        this.writtenSeq = batchSeq
        this.writtenChain = batchChain
        this.resolveWaiters(this.writtenWaiters, batchSeq)
        if (this.durability === 'fsync' || roll) {
          await handle.datasync()
          this.syncedOffset = this.writtenOffset
        }
        this.durableSeq = batchSeq
        this.resolveWaiters(this.waiters, batchSeq)
        this.notifyAppend()
        if (roll) {
          this.rollRequested = false
          await this.roll(batchSeq, batchChain)
        }
      }
    } catch (error) {
      this.fail(error, 'write')
    }
  }

  private async roll(seq: number, chain: bigint): Promise<void> {
    const fs = this.fs!
    const dir = this.dir!
    const last = this.segments[this.segments.length - 1]!
    const number = last.number + 1
    const name = segmentFileName(number)
    const handle = await createSegment(fs, dir, { number, logId: this.logId, baseSeq: seq, baseChain: chain })
    const old = this.handle
    this.handle = handle
    this.segments = [...this.segments, { number, name, baseSeq: seq, baseChain: chain }]
    this.writtenOffset = this.syncedOffset = this.markedSynced = SEGMENT_HEADER_BYTES
    this.activeSealed = false
    await old?.close().catch(() => undefined)
    if (this.pending.length > 0) this.scheduleFlush()
  }

  private fail(error: unknown, operation: string): void {
    if (this.failed) return
    this.failed = new LogFailedError(
      `the log failed on ${operation} and refuses writes until reopened: ${(error as Error)?.message ?? error}`,
      this.context({ operation, file: this.segments[this.segments.length - 1]?.name }),
      error,
    )
    this.pending = []
    this.pendingBytes = 0
    for (const w of this.waiters.splice(0)) w.reject(this.failed)
    for (const w of this.writtenWaiters.splice(0)) w.reject(this.failed)
  }

  private resolveWaiters(list: Waiter[], seq: number): void {
    let n = 0
    while (n < list.length && list[n]!.seq <= seq) n++
    if (n === 0) return
    for (const w of list.splice(0, n)) w.resolve()
  }

  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed)
    if (this.durableSeq >= this.headSeq) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq: this.headSeq, resolve, reject })
    })
  }

  /** Resolves when every append so far has reached the OS (so readers of the files can see it). */
  private written(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed)
    if (this.writtenSeq >= this.headSeq) return Promise.resolve()
    return new Promise((resolve, reject) => this.writtenWaiters.push({ seq: this.headSeq, resolve, reject }))
  }

  onAppend(listener: (head: Position) => void): () => void {
    this.appendListeners.add(listener)
    return () => {
      this.appendListeners.delete(listener)
    }
  }

  // ---------------------------------------------------------------- reads

  read(options: { from?: number } = {}): AsyncIterableIterator<Commit> {
    return this.readCommits(options.from ?? 0, false)
  }

  readEncoded(options: { from?: number } = {}): AsyncIterableIterator<EncodedCommit> {
    return this.readCommits(options.from ?? 0, true)
  }

  private readCommits(from: number, encoded: true): AsyncGenerator<EncodedCommit>
  private readCommits(from: number, encoded: false): AsyncGenerator<Commit>
  private async *readCommits(from: number, encoded: boolean): AsyncGenerator<Commit | EncodedCommit> {
    try {
      yield* this.readCommitsFrom(from, encoded)
    } catch (error) {
      throw asLogError(error, 'read', this.context({ from }))
    }
  }

  private async *readCommitsFrom(from: number, encoded: boolean): AsyncGenerator<Commit | EncodedCommit> {
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new LogInputError(
        'LOG_BAD_FRAME',
        `from must be a non-negative integer, got ${from}`,
        this.context({ from }),
      )
    }
    let pos = from
    if (!this.readOnly && !this.isClosed) await this.written()
    for (;;) {
      const target = this.writtenSeq
      if (pos >= target) return
      if (pos < this.startSeq) {
        throw new LogInputError(
          'LOG_NEED_SNAPSHOT',
          `commits after seq ${pos} are gone (the log starts at seq ${this.startSeq}); load the snapshot first`,
          this.context({ from: pos, start: this.startSeq }),
        )
      }
      if (!this.fs) {
        const first = this.memoryFrames[0]
        const index = first ? pos + 1 - first.seq : 0
        for (let i = index; i < this.memoryFrames.length && this.memoryFrames[i]!.seq <= target; i++) {
          const c = this.memoryFrames[i]!
          pos = c.seq
          yield encoded ? c : { seq: c.seq, chain: c.chain, payload: c.frame.subarray(FRAME_HEADER_BYTES) }
        }
        continue
      }
      for await (const c of this.readSegmentsFrom(pos, target)) {
        pos = c.seq
        yield encoded
          ? { seq: c.seq, chain: c.chain, frame: c.frame }
          : { seq: c.seq, chain: c.chain, payload: c.payload }
      }
    }
  }

  private segmentIndexFor(seq: number): number {
    let index = 0
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.baseSeq <= seq) index = i
    return index
  }

  private async *readSegmentsFrom(
    from: number,
    target: number,
  ): AsyncGenerator<{ seq: number; chain: string; payload: Uint8Array; frame: Uint8Array }> {
    let pos = from
    let segment: SegmentRef | undefined = this.segments[this.segmentIndexFor(pos)]
    // Where the previous segment ended: the next one must start there (its header says so), or data was skipped.
    let ended: { seq: number; chain: bigint } | undefined
    while (pos < target) {
      if (!segment) return
      const current = segment
      if (ended && (current.baseSeq !== ended.seq || current.baseChain !== ended.chain)) {
        if (pos < this.startSeq) throw this.released(pos)
        throw this.corruption(current.name, 32, ended.seq, 'does not continue the previous segment')
      }
      let handle: FileHandleLike
      try {
        handle = await this.fs!.open(join(this.dir!, current.name), 'r')
      } catch (error) {
        if (errorCode(error) === 'ENOENT') {
          // Released meanwhile. If the next segment still listed starts at or before `pos`, this one held nothing
          // the read still needs (an empty segment): go on with the next one.
          const next = this.segments.find((s) => s.number > current.number)
          if (next && next.baseSeq <= pos) {
            segment = next
            continue
          }
          throw new LogInputError(
            'LOG_NEED_SNAPSHOT',
            `segment ${current.name} was released by compaction; load the snapshot first`,
            this.context({ from: pos, file: current.name }),
          )
        }
        throw error
      }
      try {
        let seq = current.baseSeq
        let chain = current.baseChain
        // A segment can stop being the active one while it is read (a roll): from then on `writtenOffset` is the
        // next segment's, and this one is read to its seal. A sealed segment is read up to its file size, never
        // further: a damaged length field must not make the reader allocate what the file cannot hold.
        const isActive = () => this.segments[this.segments.length - 1]?.number === current.number
        let size = isActive() ? 0 : await handle.size()
        const limit = () => (isActive() ? this.writtenOffset : size)
        let from = SEGMENT_HEADER_BYTES
        const hint = this.checkpointFor(current.number, pos)
        if (hint !== undefined && hint.seq >= current.baseSeq) {
          from = hint.offset
          seq = hint.seq
          chain = hint.chain
        }
        scan: for (;;) {
          const frames = readFrames(handle, from, limit)
          for (;;) {
            const next = await frames.next()
            if (next.done) {
              const stop = next.value
              if (isActive()) {
                if (stop.problem === 'eof') break scan
                throw this.corruption(current.name, stop.offset, seq, stop.problem)
              }
              if (stop.problem === 'eof') {
                const now = await handle.size()
                if (stop.offset < now) {
                  size = now // it was the active segment when the limit was read: go on to its seal
                  from = stop.offset
                  continue scan
                }
                break scan // ends without a seal: the next segment's continuity check decides
              }
              if (stop.problem === 'short') break scan
              throw this.corruption(current.name, stop.offset, seq, stop.problem)
            }
            const { frame, buffer, at, offset } = next.value
            if (frame.type !== FrameType.commit) {
              if (frame.type === FrameType.seal) break scan
              continue
            }
            if (frame.seq <= pos) {
              seq = frame.seq
              chain = frame.chain
              if (seq % 64 === 0) this.checkpoint(current.number, seq, chain, offset + frame.size)
              continue
            }
            if (commitFollows(buffer, at, frame, seq, chain) !== 'ok') {
              throw this.corruption(current.name, offset, seq, 'chain')
            }
            seq = frame.seq
            chain = frame.chain
            if (seq > target) return
            pos = seq
            this.checkpoint(current.number, seq, chain, offset + frame.size)
            yield {
              seq,
              chain: chainToHex(chain),
              payload: frame.payload,
              frame: buffer.subarray(at, at + frame.size),
            }
            if (seq >= target) return
          }
        }
        ended = { seq, chain }
      } finally {
        await handle.close().catch(() => undefined)
      }
      // The next segment still listed, found by number, not by index: compaction may have shortened the list
      // meanwhile. It must start where this one ended (checked above); an empty one between may be gone.
      segment = this.segments.find((s) => s.number > current.number)
      if (!segment && pos < target) {
        if (pos < this.startSeq) throw this.released(pos)
        throw this.corruption(segmentFileName(current.number + 1), 0, pos, 'missing segment')
      }
    }
  }

  private released(pos: number): LogInputError {
    return new LogInputError(
      'LOG_NEED_SNAPSHOT',
      `commits after seq ${pos} were released by compaction; load the snapshot first`,
      this.context({ from: pos, start: this.startSeq }),
    )
  }

  private corruption(file: string, offset: number, seq: number, problem: string): LogCorruptionError {
    return new LogCorruptionError(`damaged frame in ${file} at byte ${offset} after seq ${seq} (${problem})`, {
      dir: this.dir,
      file,
      offset,
      seq,
      problem,
    })
  }

  async *tail(options: { from?: number; signal?: AbortSignal } = {}): AsyncGenerator<Commit> {
    let pos = options.from ?? 0
    const signal = options.signal
    while (!signal?.aborted && !this.isClosed) {
      for await (const c of this.read({ from: pos })) {
        pos = c.seq
        yield c
        if (signal?.aborted) return
      }
      if (this.writtenSeq > pos) continue
      await new Promise<void>((resolve) => {
        const done = () => {
          off()
          this.closeWakers.delete(done)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const off = this.onAppend(done)
        this.closeWakers.add(done)
        signal?.addEventListener('abort', done)
        if (this.writtenSeq > pos || signal?.aborted || this.isClosed) done()
      })
    }
  }

  // ---------------------------------------------------------------- following (read-only)

  private startFollowing(): void {
    const tick = () => {
      this.followTimer = undefined
      this.followAgain = false
      this.following = this.refresh()
        .catch(() => undefined)
        .finally(() => {
          this.following = undefined
          if (this.followStopped) return
          this.followTimer = setTimeout(tick, this.followAgain ? 0 : this.followIntervalMs)
        })
    }
    // A change in the directory (the writer's batch reaching the active segment, a roll, a compaction) makes the
    // log look now rather than at the next poll; polling stays as the fallback for file systems without notices.
    const kick = () => {
      if (this.followStopped) return
      if (this.following) {
        this.followAgain = true
      } else if (this.followTimer) {
        clearTimeout(this.followTimer)
        tick()
      }
    }
    try {
      this.followWatch = this.fs?.watch?.(this.dir!, kick)
    } catch {
      // No watch on this file system (or no inotify instances left): polling alone.
    }
    this.followTimer = setTimeout(tick, this.followIntervalMs)
    this.followTimer.unref?.()
  }

  /** Read-only: picks up commits the writer appended since the last look, and segments it created or released. */
  private async refresh(): Promise<void> {
    const fs = this.fs!
    const dir = this.dir!
    const before = this.writtenSeq
    // Releases first, so that whoever sees the head move also sees the start the writer's compaction left.
    await this.refreshReleased()
    for (;;) {
      const active = this.segments[this.segments.length - 1]!
      const size = await this.handle!.size()
      if (size > this.writtenOffset) {
        let seq = this.writtenSeq
        let chain = this.writtenChain
        let offset = this.writtenOffset
        const frames = readFrames(this.handle!, this.writtenOffset, () => size)
        for await (const { frame, buffer, at, offset: at0 } of frames) {
          if (frame.type === FrameType.commit) {
            if (commitFollows(buffer, at, frame, seq, chain) !== 'ok') break
            seq = frame.seq
            chain = frame.chain
          } else if (frame.seq !== seq || frame.chain !== chain) break
          else if (frame.type === FrameType.seal) this.activeSealed = true
          offset = at0 + frame.size
          if (this.activeSealed) break
        }
        this.writtenOffset = offset
        this.writtenSeq = this.durableSeq = this.headSeq = seq
        this.writtenChain = this.headChain = chain
        this.headCache = undefined
      }
      if (!this.activeSealed) break
      // The writer rolled: move to the next segment once it exists.
      const nextName = segmentFileName(active.number + 1)
      let next: FileHandleLike
      let nextNumber = active.number + 1
      let jumped = false
      try {
        next = await fs.open(join(dir, nextName), 'r')
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error
        // The next segment is gone: the writer compacted it away before we got there. Continue from the oldest
        // segment left after ours; readers that need the skipped commits get LOG_NEED_SNAPSHOT.
        const later = (await fs.readdir(dir))
          .map(parseSegmentFileName)
          .filter((n): n is number => n !== undefined && n > active.number)
          .sort((a, b) => a - b)
        if (later.length === 0) break // not created yet
        nextNumber = later[0]!
        try {
          next = await fs.open(join(dir, segmentFileName(nextNumber)), 'r')
        } catch (retryError) {
          if (errorCode(retryError) === 'ENOENT') continue // released meanwhile too: look again
          throw retryError
        }
        // Created between the two looks: it is simply the next segment, nothing was skipped.
        jumped = nextNumber !== active.number + 1
      }
      const parsed = await readSegmentHeader(next)
      if (
        typeof parsed === 'string' ||
        parsed.logId !== this.logId ||
        (!jumped && (parsed.baseSeq !== this.writtenSeq || parsed.baseChain !== this.writtenChain)) ||
        (jumped && parsed.baseSeq < this.writtenSeq)
      ) {
        await next.close()
        break // still being created
      }
      if (jumped) {
        await this.handle!.close().catch(() => undefined)
        this.handle = next
        const ref = {
          number: nextNumber,
          name: segmentFileName(nextNumber),
          baseSeq: parsed.baseSeq,
          baseChain: parsed.baseChain,
        }
        this.segments = [ref]
        this.startSeq = this.writtenSeq = this.durableSeq = this.headSeq = parsed.baseSeq
        this.startChain = this.writtenChain = this.headChain = parsed.baseChain
        this.headCache = undefined
        this.writtenOffset = SEGMENT_HEADER_BYTES
        this.activeSealed = false
        continue
      }
      await this.handle!.close().catch(() => undefined)
      this.handle = next
      this.segments = [
        ...this.segments,
        {
          number: parsed.number,
          name: segmentFileName(nextNumber),
          baseSeq: parsed.baseSeq,
          baseChain: parsed.baseChain,
        },
      ]
      this.writtenOffset = SEGMENT_HEADER_BYTES
      this.activeSealed = false
    }
    if (this.writtenSeq !== before) this.notifyAppend()
  }

  /** Read-only: notices segments and snapshots the writer released or created. */
  private async refreshReleased(): Promise<void> {
    const listed = await this.fs!.readdir(this.dir!)
    const names = new Set(listed)
    const kept = this.segments.filter((s, i) => i === this.segments.length - 1 || names.has(s.name))
    if (kept.length !== this.segments.length) {
      this.segments = kept
      this.startSeq = kept[0]!.baseSeq
      this.startChain = kept[0]!.baseChain
    }
    this.snapshots = snapshotsIn(listed)
  }

  // ---------------------------------------------------------------- snapshots and retention

  async snapshot(data: SnapshotData, atSeq: number = this.headSeq): Promise<SnapshotInfo> {
    this.assertWritable()
    if (!Number.isSafeInteger(atSeq) || atSeq < 0 || atSeq > this.headSeq) {
      throw new LogSnapshotError(
        `atSeq must be an integer between 0 and the head seq ${this.headSeq}, got ${atSeq}`,
        this.context({ atSeq }),
      )
    }
    const latest = this.snapshots[this.snapshots.length - 1]
    if (latest && atSeq < latest.seq) {
      throw new LogSnapshotError(
        `a snapshot at seq ${latest.seq} already exists; atSeq ${atSeq} is older`,
        this.context({ atSeq }),
      )
    }
    const chain = await this.chainAt(atSeq)
    await this.sync() // never let a snapshot get ahead of the durable log
    // In 'os' mode sync() only reaches the OS: a snapshot must still never survive a power cut that its log does not.
    if (this.durability === 'os' && this.handle && !this.failed) {
      try {
        await this.handle.datasync()
      } catch (error) {
        this.fail(error, 'datasync')
        throw this.failed
      }
    }
    if (!this.fs) {
      const chunks: Uint8Array[] = []
      let bytes = 0
      for await (const chunk of toAsync(data)) {
        chunks.push(Uint8Array.from(chunk))
        bytes += chunk.byteLength
      }
      const info = { logId: this.logId, seq: atSeq, chain: chainToHex(chain), bytes, file: undefined }
      this.memorySnapshot = { info, chunks }
      this.releaseMemory()
      return info
    }
    let entry: SnapshotEntry
    try {
      entry = await writeSnapshotFile(this.fs, this.dir!, { logId: this.logId, seq: atSeq, chain }, toAsync(data))
    } catch (error) {
      if (error instanceof LogSnapshotError) throw error
      this.fail(error, 'snapshot')
      throw this.failed
    }
    this.snapshots = [...this.snapshots.filter((s) => s.seq !== entry.seq), entry]
    await this.releaseSegments()
    return { logId: this.logId, seq: entry.seq, chain: chainToHex(entry.chain), bytes: entry.bytes, file: entry.name }
  }

  private async chainAt(seq: number): Promise<bigint> {
    if (seq === this.headSeq) return this.headChain
    if (seq === this.startSeq) return this.startChain
    const latest = this.snapshots[this.snapshots.length - 1]
    // Only a snapshot entry that was written or loaded here knows its chain (listed ones say 0 until loaded).
    if (latest && latest.seq === seq && latest.bytes >= 0) return latest.chain
    if (seq < this.startSeq)
      throw new LogSnapshotError(
        `seq ${seq} is older than the log's start ${this.startSeq}`,
        this.context({ atSeq: seq }),
      )
    for await (const c of this.readCommits(seq - 1, true)) {
      return BigInt(`0x${c.chain}`)
    }
    throw new LogSnapshotError(`no commit with seq ${seq}`, this.context({ atSeq: seq }))
  }

  /** Deletes segments and older snapshots no longer needed by the latest snapshot or any hold. */
  private async releaseSegments(): Promise<void> {
    if (this.readOnly || this.isClosed) return
    const latest = this.snapshots[this.snapshots.length - 1]
    if (!latest) return
    const keepAfter = this.keepAfter(latest.seq)
    // Roll first if the active segment holds only commits the snapshot covers, so it can be released too.
    const active = this.segments[this.segments.length - 1]!
    if (this.fs && active.baseSeq < keepAfter && keepAfter >= this.headSeq && this.headSeq > active.baseSeq) {
      this.rollRequested = true
      this.scheduleFlush()
      while (this.rollRequested && !this.failed) {
        await new Promise((r) => setImmediate(r))
        if (this.flushing) await this.flushing
      }
      if (this.failed) throw this.failed
    }
    const release: SegmentRef[] = []
    for (let i = 0; i + 1 < this.segments.length; i++) {
      if (this.segments[i + 1]!.baseSeq <= keepAfter) release.push(this.segments[i]!)
    }
    const oldSnapshots = this.snapshots.slice(0, -1)
    if (release.length === 0 && oldSnapshots.length === 0) return
    try {
      for (const s of release) await this.fs!.unlink(join(this.dir!, s.name))
      for (const s of oldSnapshots) await this.fs!.unlink(join(this.dir!, s.name))
      await this.fs!.syncDir(this.dir!)
    } catch (error) {
      this.fail(error, 'unlink')
      throw this.failed
    }
    this.segments = this.segments.filter((s) => !release.includes(s))
    this.snapshots = this.snapshots.slice(-1)
    this.startSeq = this.segments[0]!.baseSeq
    this.startChain = this.segments[0]!.baseChain
  }

  /** The seq after which commits must be kept: the snapshot's, or an older one a retention hold still needs. */
  private keepAfter(snapshotSeq: number): number {
    let keep = snapshotSeq
    for (const seq of this.holds.values()) keep = Math.min(keep, seq)
    return keep
  }

  private releaseMemory(): void {
    const snap = this.memorySnapshot
    if (!snap) return
    const keepAfter = this.keepAfter(snap.info.seq)
    let drop = 0
    while (drop < this.memoryFrames.length && this.memoryFrames[drop]!.seq <= keepAfter) drop++
    if (drop === 0) return
    const last = this.memoryFrames[drop - 1]!
    this.memoryFrames.splice(0, drop)
    this.startSeq = last.seq
    this.startChain = BigInt(`0x${last.chain}`)
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    let snap: Snapshot | undefined
    try {
      snap = await this.findLatestSnapshot()
    } catch (error) {
      throw asLogError(error, 'read snapshot', this.context())
    }
    if (snap === undefined || !this.fs) return snap
    const loaded = snap
    const context = this.context({ file: loaded.file, seq: loaded.seq })
    return {
      ...loaded,
      async *chunks() {
        try {
          yield* loaded.chunks()
        } catch (error) {
          throw asLogError(error, 'read snapshot', context)
        }
      },
      async payload() {
        try {
          return await loaded.payload()
        } catch (error) {
          throw asLogError(error, 'read snapshot', context)
        }
      },
    }
  }

  private async findLatestSnapshot(): Promise<Snapshot | undefined> {
    if (!this.fs) {
      const snap = this.memorySnapshot
      if (!snap) return undefined
      return {
        ...snap.info,
        async *chunks() {
          yield* snap.chunks
        },
        payload: async () => Buffer.concat(snap.chunks),
      }
    }
    for (;;) {
      // A read-only log sees the writer's snapshots only in the directory.
      if (this.readOnly) this.snapshots = await listSnapshots(this.fs, this.dir!)
      const list = this.snapshots
      for (let i = list.length - 1; i >= 0; i--) {
        const loaded = await loadSnapshot(this.fs, this.dir!, list[i]!, this.logId)
        if (loaded) return loaded
      }
      // A snapshot taken meanwhile may have deleted the ones looked at: look again at the new list.
      if (this.readOnly) {
        const now = await listSnapshots(this.fs, this.dir!)
        if (now.map((e) => e.name).join() === list.map((e) => e.name).join()) return undefined
      } else if (list === this.snapshots) return undefined
    }
  }

  hold(name: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw new LogSnapshotError(`hold seq must be a non-negative integer, got ${seq}`, { name, seq })
    this.holds.set(name, seq)
  }

  release(name: string): void {
    this.holds.delete(name)
  }

  // ---------------------------------------------------------------- close

  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    this.followStopped = true
    this.followWatch?.close()
    if (this.followTimer) clearTimeout(this.followTimer)
    if (this.following) await this.following
    if (!this.readOnly && !this.failed) await this.sync().catch(() => undefined)
    // Even after a failure a flush may still be finishing a segment roll: closing the handle before it ends would
    // leave the new segment open (the roll makes it the active handle afterwards).
    if (this.flushing) await this.flushing
    if (this.handle && !this.readOnly && !this.failed && this.durability === 'os') {
      await this.handle.datasync().catch(() => undefined)
    }
    await this.handle?.close().catch(() => undefined)
    this.handle = undefined
    this.isClosed = true
    for (const wake of [...this.closeWakers]) wake()
    await this.releaseLock?.()
    const failure = this.failed
    for (const w of this.waiters.splice(0))
      w.reject(failure ?? new LogStateError('LOG_CLOSED', 'the log is closed', this.context()))
    // close() flushes what was appended: if a failure kept some of it from becoming durable (appends nobody
    // awaited, or the final flush itself failed), resolving would acknowledge a loss. Report it instead.
    if (failure && this.durableSeq < this.headSeq) throw failure
  }
}

async function* toAsync(data: SnapshotData): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data
    return
  }
  for await (const chunk of data as AsyncIterable<Uint8Array>) {
    if (!(chunk instanceof Uint8Array)) throw new LogSnapshotError('snapshot chunks must be Uint8Arrays')
    yield chunk
  }
}
