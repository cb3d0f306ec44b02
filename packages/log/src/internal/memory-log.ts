// Memory mode ('memory' durability) as its own storage: encoded frames in an array, the latest snapshot's chunks in
// memory, and the same retention rule as on files. It is sink, source and snapshot keeper at once; nothing in it
// touches a file, and every append is written and "durable" the moment it is pushed.
import type { Snapshot, SnapshotInfo } from '../types.js'
import { chainFromHex, chainToHex, FRAME_HEADER_BYTES, FrameType } from './format.js'
import { encodeFrame } from './frame-codec.js'
import type { Holds } from './holds.js'
import type { CommitSource, FrameSink, ReadCommit, SnapshotKeeper } from './log-parts.js'
import type { LogPositions } from './positions.js'

/** What memory mode needs from the log. */
export interface MemoryLogDeps {
  readonly logId: string
  readonly positions: LogPositions
  readonly holds: Holds
  /** Told once per turn in which frames were pushed (the facade notifies `onAppend` listeners). */
  readonly onWritten: () => void
}

/**
 * A commit as memory mode keeps it: its position (it is also the `Point` the positions move to) and its encoded
 * frame (the payload is read out of it when needed).
 */
interface MemoryCommit {
  readonly seq: number
  readonly chain: bigint
  readonly hex: string
  readonly frame: Buffer
}

/** Commits per batch a read hands out. */
const READ_BATCH = 1024

/** See the file header. */
export class MemoryLog implements FrameSink, CommitSource, SnapshotKeeper {
  readonly failure = undefined
  readonly #deps: MemoryLogDeps
  /** Every commit after the start, in seq order. */
  readonly #frames: MemoryCommit[] = []
  #snapshot: { readonly info: SnapshotInfo; readonly chunks: readonly Uint8Array[] } | undefined
  #notifyScheduled = false

  constructor(deps: MemoryLogDeps) {
    this.#deps = deps
  }

  appendCommit(payload: Uint8Array): number {
    const positions = this.#deps.positions
    const seq = positions.headSeq + 1
    const { frame, chain } = encodeFrame(FrameType.commit, seq, positions.headChain, payload)
    this.#store(frame, seq, chain)
    return seq
  }

  appendFrame(frame: Uint8Array, seq: number, chain: bigint): void {
    // A copy: the caller's buffer may change once appendEncoded has returned.
    this.#store(Buffer.from(frame), seq, chain)
  }

  /** The commit is appended, written and "durable" at once; listeners hear of it once per turn. */
  #store(frame: Buffer, seq: number, chain: bigint): void {
    const commit: MemoryCommit = { seq, chain, hex: chainToHex(chain), frame }
    this.#frames.push(commit)
    const positions = this.#deps.positions
    positions.appended(seq, chain)
    positions.stored(commit)
    if (this.#notifyScheduled) return
    this.#notifyScheduled = true
    queueMicrotask(() => {
      this.#notifyScheduled = false
      this.#deps.onWritten()
    })
  }

  sync(): Promise<void> {
    return Promise.resolve()
  }

  written(): Promise<void> {
    return Promise.resolve()
  }

  onDisk(): Promise<void> {
    return Promise.resolve()
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  abandon(): void {}

  async *read(from: number, target: number, encoded: boolean): AsyncGenerator<ReadCommit[], void, undefined> {
    const first = this.#frames[0]
    let i = Math.max(0, first ? from + 1 - first.seq : 0)
    while (i < this.#frames.length && this.#frames[i]!.seq <= target) {
      const batch: ReadCommit[] = []
      for (; i < this.#frames.length && this.#frames[i]!.seq <= target && batch.length < READ_BATCH; i++) {
        const { seq, hex, frame } = this.#frames[i]!
        batch.push(
          encoded ? { seq, chain: hex, frame } : { seq, chain: hex, payload: frame.subarray(FRAME_HEADER_BYTES) },
        )
      }
      yield batch
    }
  }

  async newestSeq(): Promise<number | undefined> {
    return this.#snapshot?.info.seq
  }

  knownChain(seq: number): bigint | undefined {
    const info = this.#snapshot?.info
    return info?.seq === seq ? chainFromHex(info.chain) : undefined
  }

  async write(data: AsyncIterable<Uint8Array>, seq: number, chain: bigint): Promise<SnapshotInfo> {
    const chunks: Uint8Array[] = []
    let bytes = 0
    for await (const chunk of data) {
      chunks.push(Uint8Array.from(chunk))
      bytes += chunk.byteLength
    }
    const info = { logId: this.#deps.logId, seq, chain: chainToHex(chain), bytes, file: undefined }
    this.#snapshot = { info, chunks }
    this.#release(seq)
    return info
  }

  async latest(): Promise<Snapshot | undefined> {
    const snap = this.#snapshot
    if (!snap) return undefined
    return {
      ...snap.info,
      async *chunks() {
        yield* snap.chunks
      },
      payload: async () => Buffer.concat(snap.chunks),
    }
  }

  /** Drops the commits the snapshot at `seq` covers and no hold needs (FORMAT.md › Retention holds). */
  #release(snapshotSeq: number): void {
    const keepAfter = this.#deps.holds.keepAfter(snapshotSeq)
    let drop = 0
    while (drop < this.#frames.length && this.#frames[drop]!.seq <= keepAfter) drop++
    if (drop === 0) return
    const last = this.#frames[drop - 1]!
    this.#frames.splice(0, drop)
    this.#deps.positions.released(last)
  }
}
