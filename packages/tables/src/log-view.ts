// logOf(db): a frozen, read-only view of the log under a db, with exactly what log shipping needs (identity,
// positions, encoded frames, snapshots, retention holds, append and snapshot notices) and no way to append:
// every member is a bound function or a getter, so not even a cast reaches the Log object itself.
import type { Durability, EncodedCommit, Position, Snapshot, SnapshotInfo } from '@homedb/log'
import { TablesConfigError } from './errors.js'
import { coreOf } from './internal/db-core.js'

/** A read-only view of a db's log (see {@link logOf}). */
export interface LogView {
  /** 32 hex digits, fixed when the log was created. */
  readonly logId: string
  readonly dir: string | undefined
  readonly durability: Durability
  /** Position after the last commit appended (durable once {@link LogView.durable} says so). */
  readonly head: Position
  /** Position before the oldest commit still held in segments. */
  readonly start: Position
  /**
   * Position after the last commit durable now under the log's durability mode (the log's `durable`): what can be
   * shipped without waiting. `durableHead.seq ≤ head.seq`.
   */
  readonly durableHead: Position
  /**
   * Resolves with a position every commit up to which is durable under the log's durability mode: the head at the
   * time of the call, once it is durable. Rejects if the log failed.
   */
  durable(): Promise<Position>
  /** Commits with seq > `from` in their encoded form, byte for byte as stored (see the log's FORMAT.md). */
  readEncoded(options?: { from?: number }): AsyncIterableIterator<EncodedCommit>
  /** The newest complete snapshot, or `undefined`. */
  latestSnapshot(): Promise<Snapshot | undefined>
  /** Keeps the commits after `seq` from being released by compaction until `release(name)`. */
  hold(name: string, seq: number): void
  release(name: string): void
  /** Calls `listener` after new commits were written (in `'fsync'` mode: after their fdatasync). */
  onAppend(listener: (head: Position) => void): () => void
  /** Calls `listener` after each snapshot this db wrote (a compaction). */
  onSnapshot(listener: (info: SnapshotInfo) => void): () => void
}

const views = new WeakMap<object, LogView>()

/**
 * The read-only view of the log under `db`, for log shipping (`@homedb/replication`'s `ship`). A function rather
 * than a db property, so no table name is taken. Throws `TABLES_CONFIG` for a db made by `followDb` (it has no log
 * of its own) and for anything that is not a db.
 *
 * @example
 * ```ts
 * const view = logOf(db)
 * console.log(view.logId, view.head.seq)
 * for await (const { seq, frame } of view.readEncoded({ from: 0 })) send(seq, frame)
 * ```
 */
export function logOf(db: object): LogView {
  const cached = views.get(db)
  if (cached !== undefined) return cached
  let core: ReturnType<typeof coreOf>
  try {
    core = coreOf(db)
  } catch {
    throw new TablesConfigError('logOf() takes a db opened by openDb')
  }
  const log = core.log
  if (core.readOnly && !log.readOnly) {
    throw new TablesConfigError('logOf(): a db made by followDb has no log of its own')
  }
  const view: LogView = Object.freeze({
    logId: log.logId,
    dir: log.dir,
    durability: log.durability,
    get head() {
      return log.head
    },
    get start() {
      return log.start
    },
    get durableHead() {
      return log.durable
    },
    async durable() {
      const head = log.head
      await log.sync()
      return head
    },
    readEncoded: (options?: { from?: number }) => log.readEncoded(options),
    latestSnapshot: () => log.latestSnapshot(),
    hold: (name: string, seq: number) => log.hold(name, seq),
    release: (name: string) => log.release(name),
    onAppend: (listener: (head: Position) => void) => log.onAppend(listener),
    onSnapshot: (listener: (info: SnapshotInfo) => void) => core.compactor.onSnapshot(listener),
  })
  views.set(db, view)
  return view
}
