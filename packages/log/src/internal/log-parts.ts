// The narrow interfaces the Log facade (log-impl.ts) is assembled from: where appended frames go, where commits are
// read back from, and where snapshots are kept. Files implement them with separate pieces (group-commit.ts,
// segment-reader.ts, retention.ts), memory mode with one small class (memory-log.ts); the facade never knows which.
import type { LogFailedError } from '../errors.js'
import type { Commit, EncodedCommit, Snapshot, SnapshotInfo } from '../types.js'

/** A commit as a read hands it out: with its payload (`read`), or its whole encoded frame (`readEncoded`). */
export type ReadCommit = Commit | EncodedCommit

/**
 * Where appended commits go. The facade has checked them; the sink encodes them where they will be written from (so
 * a frame is built once, in place) and moves the positions' head past them.
 */
export interface FrameSink {
  /** Set once a write failed (fail-stop): every later write is refused with it. */
  readonly failure: LogFailedError | undefined
  /** Encodes `payload` as the commit after the head, queues it and moves the head; returns its seq. */
  appendCommit(payload: Uint8Array): number
  /** Queues a commit frame received already encoded and checked to follow the head, and moves the head to it. */
  appendFrame(frame: Uint8Array, seq: number, chain: bigint): void
  /** Resolves once everything pushed is as durable as the durability mode promises; rejects with the failure. */
  sync(): Promise<void>
  /** Resolves once everything pushed has reached the OS, so reading the files finds it. */
  written(): Promise<void>
  /** Like `sync`, and in 'os' mode also fdatasyncs: a snapshot must never survive a power cut its log does not. */
  onDisk(): Promise<void>
  /** Writes and syncs what was pushed (as far as a failure allows) and closes the files. Never rejects. */
  close(): Promise<void>
  /** After close: rejects whatever still waits, with the failure if there is one, else with `closed`. */
  abandon(closed: Error): void
}

/** Where commits are read back from. */
export interface CommitSource {
  /**
   * Commits with `from < seq ≤ target`, in order, in batches (each a fresh, non-empty array), `target` being at most
   * the written position: with their payload, or with their encoded frame if `encoded`. Throws `LOG_NEED_SNAPSHOT`
   * for commits released meanwhile and `LOG_CORRUPT` for damage met on the way.
   */
  read(from: number, target: number, encoded: boolean): AsyncGenerator<ReadCommit[], void, undefined>
  /** Told when a read starts, even one with nothing to read yet (a source may keep recent batches while reads come). */
  reading?(): void
}

/** Where snapshots are kept, and what they allow to release. */
export interface SnapshotKeeper {
  /** Seq of the newest complete snapshot (a new one may not be older), checking listed files that need it. */
  newestSeq(): Promise<number | undefined>
  /** The chain at `seq`, if a snapshot written or checked here records it. */
  knownChain(seq: number): bigint | undefined
  /** Writes a snapshot of the state at (`seq`, `chain`), then releases what nothing needs any more. */
  write(data: AsyncIterable<Uint8Array>, seq: number, chain: bigint): Promise<SnapshotInfo>
  /** The newest complete snapshot. */
  latest(): Promise<Snapshot | undefined>
}

/** A read-only log writes nothing: its sink has nothing to wait for. */
export const NO_WRITES: FrameSink = {
  failure: undefined,
  appendCommit() {
    throw new Error('a read-only log has no sink for appends')
  },
  appendFrame() {
    throw new Error('a read-only log has no sink for appends')
  },
  sync: () => Promise.resolve(),
  written: () => Promise.resolve(),
  onDisk: () => Promise.resolve(),
  close: () => Promise.resolve(),
  abandon: () => undefined,
}
