// Public types of @homedb/log: positions, options, commits, snapshots and the Log interface itself.
import type { LogIOError } from './errors.js'
import type { FileLayer } from './file-layer.js'

/** How far `sync()` (and so an acknowledged write) goes. */
export type Durability = 'fsync' | 'os' | 'memory'

/**
 * A point in a log's history: the seq of the last commit and the chain value after it.
 * `chain` is 16 lowercase hex digits (64 bits). Two logs with the same `logId`, `seq` and `chain` hold the same history.
 */
export interface Position {
  readonly seq: number
  readonly chain: string
}

/** The position before any commit: seq 0, chain 0. */
export const GENESIS: Position = Object.freeze({ seq: 0, chain: '0000000000000000' })

/** Options of {@link openLog}. */
export interface OpenLogOptions {
  /** Default `'fsync'`. `'memory'` keeps everything in memory and touches no file (dir may be omitted). */
  durability?: Durability
  /** A segment is sealed and a new one started once it reaches this many bytes. Default 4 MiB. */
  segmentBytes?: number
  /**
   * Give each new segment its full `segmentBytes` length up front (a sparse file: zeros the writer then overwrites),
   * so a durable write does not also change the file's size. On ext4 that makes each O_DSYNC write or fdatasync
   * about a quarter cheaper, because a flush then carries data only, no size update through the journal
   * (FORMAT.md › Writing). Segments are cut to their data when sealed. Turn it off where files must not look
   * bigger than their data (disk accounting by file size, file systems without sparse files). Default `true`.
   */
  preallocate?: boolean
  /**
   * Write a batch with a synchronous write on the event loop instead of handing it to a libuv threadpool thread,
   * whose round trip costs 30–60 µs on a small VM. A page-cache write (`'os'` mode, or `'fsync'` where the file layer
   * gives no O_DSYNC and an fdatasync follows) of up to 1 MiB goes inline: it only copies bytes, microseconds. A
   * durable O_DSYNC write (~90 µs on the bench machine) goes inline only while the event loop is idle enough: less
   * than half of the last 50 ms spent running code other than these writes, so a lone writer commits ~30 % faster
   * and a busy process keeps its loop for its other work. After a write that blocked the loop for 2 ms (page cache)
   * or 20 ms (durable), batches go to the threadpool for a second. Needs `writeSync` on the file layer's handles
   * (the default layer has it). `false`: every write goes to the threadpool, and the loop never waits for the disk.
   * Default `true`.
   */
  inlineWrites?: boolean
  /**
   * Bytes of its newest written batches a writable log keeps in memory (a copy) while reads keep coming, so that a
   * read of what was just written (a shipper, a `tail()`) opens no file. Kept from a read on until a second passes
   * without one. Default 1 MiB; `0` keeps nothing (every read goes to the files).
   */
  keepRecentBytes?: number
  /** Largest payload `append` accepts. Default 64 MiB. */
  maxPayloadBytes?: number
  /** Open without the lock: never writes, truncates or deletes; follows the writer's new commits. */
  readOnly?: boolean
  /**
   * The longest a read-only log waits before looking for new commits, in ms. Default 25. It also looks at once when
   * the file layer's `watch` reports a change in the directory (the default layer watches with `fs.watch`).
   */
  followIntervalMs?: number
  /**
   * Read-only logs: called with every look for new commits that failed (normally a {@link LogIOError}: the
   * directory cannot be listed, a segment cannot be read; `context.failures` counts the failed looks in a row). The
   * log keeps looking every `followIntervalMs`, and goes on normally once a look works again; close it to stop.
   * Without `onError`, the first failure of each run of failures is emitted as a process warning.
   */
  onError?: (error: Error) => void
  /** File operations go through this layer (tests inject faults and count calls). Default: node:fs. */
  fileLayer?: FileLayer
  /**
   * Used only when the directory holds no log yet: the new log's id (32 hex digits) and the position
   * it continues from, so a node can continue someone else's history (replication).
   */
  create?: { logId?: string; start?: Position }
  /** Refuse to create a new log: the directory must already hold one. */
  mustExist?: boolean
}

/** One commit as read back from the log. */
export interface Commit {
  readonly seq: number
  /** Chain value after this commit. */
  readonly chain: string
  readonly payload: Uint8Array
}

/** A commit in its encoded on-disk form, exactly as stored (see FORMAT.md), for shipping to another node. */
export interface EncodedCommit {
  readonly seq: number
  readonly chain: string
  readonly frame: Uint8Array
}

/** Data for a snapshot: one buffer or a stream of chunks (each chunk is stored and checksummed on its own). */
export type SnapshotData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** A durable snapshot: the full state at `seq`. */
export interface SnapshotInfo {
  readonly logId: string
  readonly seq: number
  readonly chain: string
  /** Payload bytes (sum of chunks). */
  readonly bytes: number
  /** File name inside the log directory (`undefined` in memory mode). */
  readonly file: string | undefined
}

/** A snapshot you can read: its chunks in order, or the whole payload concatenated. */
export interface Snapshot extends SnapshotInfo {
  chunks(): AsyncIterable<Uint8Array>
  payload(): Promise<Uint8Array>
}

/** What recovery did at open. */
export interface RecoveryReport {
  /** Bytes cut from the end of the last segment (torn tail). */
  truncatedBytes: number
  /** Complete-looking commits dropped with the torn tail because they came after damage in unsynced data. */
  droppedCommits: number
  /** File and offset where the tail was cut, if it was. */
  cutAt?: { file: string; offset: number }
}

/**
 * The append-only log. Obtain one with {@link openLog}. A read-only log keeps the process alive until it is closed
 * (its follow timer is referenced, like a server socket); a writable log holds no timer.
 */
export interface Log {
  /** 32 hex digits, fixed when the log was created. */
  readonly logId: string
  readonly dir: string | undefined
  readonly durability: Durability
  readonly readOnly: boolean
  /** Position after the last commit. */
  readonly head: Position
  /**
   * Position after the last commit that is as durable as the durability mode promises: fdatasynced in `'fsync'`
   * mode, handed to the OS in `'os'` mode, appended in `'memory'` mode. `durable.seq ≤ head.seq`; what lies between
   * is appended but not yet acknowledged (a `sync()` waits for it). A read-only log cannot see the writer's fsyncs:
   * its `durable` is the position it has read, the same as `head`.
   */
  readonly durable: Position
  /** Position before the oldest commit still held in segments (commits at or below it are only in snapshots). */
  readonly start: Position
  /** Set once the log has failed (fail-stop): every later write throws it. */
  readonly failure: Error | undefined
  /** What recovery did when this log was opened. */
  readonly recovery: RecoveryReport
  readonly closed: boolean

  /** Appends a commit and returns its seq. Synchronous; durability is awaited with {@link Log.sync}. */
  append(payload: Uint8Array): number
  /** Resolves when every append so far is durable under the durability mode. */
  sync(): Promise<void>
  /** Commits with seq > `from` (default 0) up to the head at the time the read reaches it, streamed. */
  read(options?: { from?: number }): AsyncIterableIterator<Commit>
  /**
   * Like `read`, in batches: each step hands out the commits of one read window (up to about 1 MiB of frames; never an
   * empty batch), checked like `read`'s. For replay loops: a step per batch instead of one per commit.
   *
   * @example
   * ```ts
   * let bytes = 0
   * for await (const batch of log.readBatches({ from: 0 })) {
   *   for (const { payload } of batch) bytes += payload.byteLength
   * }
   * ```
   */
  readBatches(options?: { from?: number }): AsyncIterableIterator<readonly Commit[]>
  /** Like `read`, then waits for new commits until `signal` aborts or the log closes. */
  tail(options?: { from?: number; signal?: AbortSignal }): AsyncIterableIterator<Commit>
  /** Like `read`, but yields each commit's encoded frame, byte for byte as stored. */
  readEncoded(options?: { from?: number }): AsyncIterableIterator<EncodedCommit>
  /**
   * Appends commits received from another node as encoded frames, after checking each frame's CRC, that its
   * seq is head + 1 and that its chain follows from the head. Stored byte for byte. All or nothing: if any
   * frame fails, nothing is appended. Returns the new head seq.
   */
  appendEncoded(frames: readonly Uint8Array[]): number
  /** Calls `listener` after new commits are appended (writer) or seen (read-only follower). */
  onAppend(listener: (head: Position) => void): () => void

  /** Writes a durable snapshot of the state at `atSeq` (default: head), then releases segments no longer needed. */
  snapshot(data: SnapshotData, atSeq?: number): Promise<SnapshotInfo>
  /** The newest complete snapshot, or `undefined`. */
  latestSnapshot(): Promise<Snapshot | undefined>
  /** Keeps segments holding commits after `seq` from being deleted until released (replication slots). */
  hold(name: string, seq: number): void
  release(name: string): void

  /**
   * Flushes and syncs what was appended, releases the lock and closes files. Rejects with {@link Log.failure}
   * (after releasing everything) if an I/O failure kept some appended commit from becoming durable.
   */
  close(): Promise<void>
}
