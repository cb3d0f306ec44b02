// The Log: a thin facade over the pieces in this folder. It checks input, encodes appends, reads through its commit
// source, keeps the listeners and the close order. Group commit, reading segments, following and retention live in
// the pieces it is built with (build-log.ts), which receive narrow dependencies and never call back into it.
import {
  LogConfigError,
  type LogErrorContext,
  LogInputError,
  LogReadError,
  LogSnapshotError,
  LogStateError,
} from '../errors.js'
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
import type { AppendListeners } from './append-listeners.js'
import type { Follower } from './follower.js'
import { chainFromHex, chainToHex } from './format.js'
import type { Holds } from './holds.js'
import { asLogError } from './log-io-errors.js'
import type { CommitSource, FrameSink, ReadCommit, SnapshotKeeper } from './log-parts.js'
import type { LogPositions } from './positions.js'
import { checkReceivedFrames } from './received-frames.js'

/** Everything a {@link LogImpl} is made of; build-log.ts assembles it for each kind of open. */
export interface LogInit {
  readonly logId: string
  readonly dir: string | undefined
  readonly durability: Durability
  readonly readOnly: boolean
  readonly recovery: RecoveryReport
  readonly maxPayloadBytes: number
  readonly positions: LogPositions
  readonly holds: Holds
  readonly listeners: AppendListeners
  readonly sink: FrameSink
  readonly source: CommitSource
  readonly snapshots: SnapshotKeeper
  readonly follower: Follower | undefined
  readonly releaseLock: (() => Promise<void>) | undefined
}

/** See the file header. */
export class LogImpl implements Log {
  readonly logId: string
  readonly dir: string | undefined
  readonly durability: Durability
  readonly readOnly: boolean
  readonly recovery: RecoveryReport
  readonly #positions: LogPositions
  readonly #holds: Holds
  readonly #listeners: AppendListeners
  readonly #sink: FrameSink
  readonly #source: CommitSource
  readonly #snapshots: SnapshotKeeper
  readonly #follower: Follower | undefined
  readonly #maxPayloadBytes: number
  readonly #releaseLock: (() => Promise<void>) | undefined
  /** Tails waiting for the next commit, woken when the log closes. */
  readonly #closeWakers = new Set<() => void>()
  #closing: Promise<void> | undefined
  #closed = false

  constructor(init: LogInit) {
    this.logId = init.logId
    this.dir = init.dir
    this.durability = init.durability
    this.readOnly = init.readOnly
    this.recovery = init.recovery
    this.#positions = init.positions
    this.#holds = init.holds
    this.#listeners = init.listeners
    this.#sink = init.sink
    this.#source = init.source
    this.#snapshots = init.snapshots
    this.#follower = init.follower
    this.#maxPayloadBytes = init.maxPayloadBytes
    this.#releaseLock = init.releaseLock
    this.#follower?.start()
  }

  get head(): Position {
    return this.#positions.head
  }

  get start(): Position {
    const { seq, chain } = this.#positions.start
    return { seq, chain: chainToHex(chain) }
  }

  get durable(): Position {
    const { seq, chain } = this.#positions.durable
    return { seq, chain: chainToHex(chain) }
  }

  get failure(): Error | undefined {
    return this.#sink.failure
  }

  get closed(): boolean {
    return this.#closed
  }

  append(payload: Uint8Array): number {
    this.#assertWritable()
    if (!(payload instanceof Uint8Array)) {
      throw new LogInputError('LOG_BAD_FRAME', 'payload must be a Uint8Array', this.#context({ got: typeof payload }))
    }
    if (payload.byteLength > this.#maxPayloadBytes) {
      throw new LogInputError(
        'LOG_FRAME_TOO_LARGE',
        `payload of ${payload.byteLength} bytes is over the limit of ${this.#maxPayloadBytes}`,
        this.#context({ bytes: payload.byteLength, limit: this.#maxPayloadBytes }),
      )
    }
    return this.#sink.appendCommit(payload)
  }

  appendEncoded(frames: readonly Uint8Array[]): number {
    this.#assertWritable()
    const positions = this.#positions
    const head = { seq: positions.headSeq, chain: positions.headChain }
    const accepted = checkReceivedFrames(frames, head, this.#maxPayloadBytes, (extra) => this.#context(extra))
    for (const { frame, seq, chain } of accepted) this.#sink.appendFrame(frame, seq, chain)
    return positions.headSeq
  }

  sync(): Promise<void> {
    return this.#sink.sync()
  }

  onAppend(listener: (head: Position) => void): () => void {
    return this.#listeners.add(listener)
  }

  read(options: { from?: number } = {}): AsyncIterableIterator<Commit> {
    return this.#each(options.from ?? 0, false) as AsyncIterableIterator<Commit>
  }

  readBatches(options: { from?: number } = {}): AsyncIterableIterator<readonly Commit[]> {
    return this.#batches(options.from ?? 0, false) as AsyncIterableIterator<readonly Commit[]>
  }

  readEncoded(options: { from?: number } = {}): AsyncIterableIterator<EncodedCommit> {
    return this.#each(options.from ?? 0, true) as AsyncIterableIterator<EncodedCommit>
  }

  async *tail(options: { from?: number; signal?: AbortSignal } = {}): AsyncGenerator<Commit> {
    let pos = options.from ?? 0
    const signal = options.signal
    while (!signal?.aborted && !this.#closed) {
      for await (const c of this.read({ from: pos })) {
        pos = c.seq
        yield c
        if (signal?.aborted) return
      }
      if (this.#positions.written.seq > pos) continue
      await this.#nextAppend(pos, signal)
    }
  }

  async snapshot(data: SnapshotData, atSeq: number = this.#positions.headSeq): Promise<SnapshotInfo> {
    this.#assertWritable()
    const head = this.#positions.headSeq
    if (!Number.isSafeInteger(atSeq) || atSeq < 0 || atSeq > head) {
      throw new LogSnapshotError(
        `atSeq must be an integer between 0 and the head seq ${head}, got ${atSeq}`,
        this.#context({ atSeq }),
      )
    }
    const newest = await this.#snapshots.newestSeq()
    if (newest !== undefined && atSeq < newest) {
      throw new LogSnapshotError(
        `a snapshot at seq ${newest} already exists; atSeq ${atSeq} is older`,
        this.#context({ atSeq }),
      )
    }
    const chain = await this.#chainAt(atSeq)
    // A snapshot must never get ahead of the log: not of the durable log, and in 'os' mode not of the disk either.
    await this.#sink.onDisk()
    return this.#snapshots.write(toAsync(data), atSeq, chain)
  }

  latestSnapshot(): Promise<Snapshot | undefined> {
    return this.#snapshots.latest()
  }

  hold(name: string, seq: number): void {
    this.#holds.hold(name, seq)
  }

  release(name: string): void {
    this.#holds.release(name)
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await this.#follower?.stop()
    await this.#sink.close()
    this.#closed = true
    for (const wake of [...this.#closeWakers]) wake()
    await this.#releaseLock?.()
    this.#sink.abandon(new LogStateError('LOG_CLOSED', 'the log is closed', this.#context()))
    // close() flushes what was appended: if a failure kept some of it from becoming durable (appends nobody
    // awaited, or the final flush itself failed), resolving would acknowledge a loss. Report it instead.
    const failure = this.#sink.failure
    if (failure && this.#positions.durable.seq < this.#positions.headSeq) throw failure
  }

  #context(extra: LogErrorContext = {}): LogErrorContext {
    return { dir: this.dir, seq: this.#positions.headSeq, ...extra }
  }

  #assertWritable(): void {
    if (this.#closed || this.#closing) throw new LogStateError('LOG_CLOSED', 'the log is closed', this.#context())
    if (this.readOnly) throw new LogStateError('LOG_READ_ONLY', 'the log was opened read-only', this.#context())
    const failure = this.#sink.failure
    if (failure) throw failure
  }

  /** The commits after `from` one at a time: one generator step per commit, over the batches. */
  async *#each(from: number, encoded: boolean): AsyncGenerator<ReadCommit> {
    for await (const batch of this.#batches(from, encoded)) for (const commit of batch) yield commit
  }

  /** The commits after `from` up to the written position, which it follows while it moves, in batches. */
  async *#batches(from: number, encoded: boolean): AsyncGenerator<ReadCommit[]> {
    try {
      if (!Number.isSafeInteger(from) || from < 0) {
        throw new LogConfigError(`from must be a non-negative integer, got ${from}`, this.#context({ from }))
      }
      let pos = from
      this.#source.reading?.()
      // What this process appended is readable from the files once written.
      if (!this.readOnly && !this.#closed) await this.#sink.written()
      for (;;) {
        const target = this.#positions.written.seq
        if (pos >= target) return
        const start = this.#positions.start.seq
        if (pos < start) {
          throw new LogReadError(
            `commits after seq ${pos} are gone (the log starts at seq ${start}); load the snapshot first`,
            this.#context({ from: pos, start }),
          )
        }
        for await (const batch of this.#source.read(pos, target, encoded)) {
          pos = batch[batch.length - 1]!.seq
          yield batch
        }
      }
    } catch (error) {
      throw asLogError(error, 'read', this.#context({ from }))
    }
  }

  /** The chain after commit `seq`: known from the positions or a snapshot, or read from the log. */
  async #chainAt(seq: number): Promise<bigint> {
    const positions = this.#positions
    if (seq === positions.headSeq) return positions.headChain
    const start = positions.start
    if (seq === start.seq) return start.chain
    const known = this.#snapshots.knownChain(seq)
    if (known !== undefined) return known
    if (seq < start.seq) {
      throw new LogSnapshotError(`seq ${seq} is older than the log's start ${start.seq}`, this.#context({ atSeq: seq }))
    }
    for await (const [c] of this.#batches(seq - 1, true)) return chainFromHex(c!.chain)
    throw new LogSnapshotError(`no commit with seq ${seq}`, this.#context({ atSeq: seq }))
  }

  /** Resolves at the next append past `pos`, when `signal` aborts, or when the log closes. */
  #nextAppend(pos: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        off()
        this.#closeWakers.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const off = this.onAppend(done)
      this.#closeWakers.add(done)
      signal?.addEventListener('abort', done)
      if (this.#positions.written.seq > pos || signal?.aborted || this.#closed) done()
    })
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
