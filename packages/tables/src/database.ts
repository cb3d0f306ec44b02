// The db handle users hold: its tables as properties (added by the core at open) and the db-level members. Kept
// thin: every member delegates to the engine behind it, seen through the DatabaseCore interface declared here, so
// the handle depends on nothing inside the package and its prototype shows users only the public API.
import type { CommitEvent } from './commit-event.js'
import type { TableDefs } from './schema.js'

/** What {@link Database.compact} reports. */
export interface CompactInfo {
  /** Seq the snapshot holds the state of. */
  readonly seq: number
  /** Payload bytes of the snapshot. */
  readonly bytes: number
  /** Operations written (one per value, plus one per empty key). */
  readonly ops: number
  /** Wall time, in ms. */
  readonly ms: number
}

/** Options of {@link Database.waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms with `TABLES_WAIT_TIMEOUT`. Default: wait as long as it takes. */
  readonly timeoutMs?: number
  /** Give up when it aborts, with `TABLES_WAIT_ABORTED`. */
  readonly signal?: AbortSignal
}

/**
 * The engine a {@link Database} delegates to (the package's internal db core implements it). Each member does what
 * the Database member of the same name documents. Listeners get the commit event untyped (the Database's own
 * signatures give it the schema's types).
 * @internal
 */
export interface DatabaseCore {
  readonly seq: number
  readonly closed: boolean
  readonly readOnly: boolean
  transactionSync<R>(fn: () => R): R
  transaction<R>(fn: () => R): Promise<R> | R
  sync(): Promise<void>
  close(): Promise<void>
  onCommit(listener: (event: unknown) => void): () => void
  onDurable(listener: (event: unknown) => void): () => void
  onClose(listener: () => void): () => void
  compact(): Promise<CompactInfo>
  stateHash(): string
  waitFor(seq: number, options?: WaitForOptions): Promise<void>
}

/**
 * The db-level members of an open db. The tables are properties next to them: see {@link Db}.
 * Obtain one with {@link openDb}.
 */
export class Database<D extends TableDefs = TableDefs> {
  readonly #core: DatabaseCore

  /** @internal Created by `openDb`. */
  constructor(core: DatabaseCore) {
    this.#core = core
  }

  /** Seq of the last commit applied in memory (0 for an empty log). Durable once `sync()` resolves. */
  get seq(): number {
    return this.#core.seq
  }

  /** True once `close()` was called: mutations throw `TABLES_CLOSED`; reads still see the last state. */
  get closed(): boolean {
    return this.#core.closed
  }

  /** True if the db was opened with `readOnly: true`: mutations throw `TABLES_READ_ONLY`. */
  get readOnly(): boolean {
    return this.#core.readOnly
  }

  /**
   * Runs `fn` as one transaction and returns its result, synchronously: all its mutations are applied in memory as
   * they happen and written as one log frame when it returns (the commit is applied and queued; `await db.sync()`
   * when you need it durable). `fn` must be synchronous. If it throws, every change is rolled back, nothing is
   * written and the error is thrown; if it returns a promise or thenable, the same happens with
   * `TABLES_ASYNC_TRANSACTION`. A refused commit (`TABLES_TOO_LARGE`, `TABLES_LOG_FAILED` …) rolls back and throws.
   *
   * Inside another transaction (either form) the call joins it and returns `fn`'s result; if `fn` throws there,
   * the whole outer transaction rolls back when it ends, even if the outer function catches the error.
   *
   * @example
   * ```ts
   * const folder = db.transactionSync(() => createFolder('docs')) // the id, at once
   * db.transactionSync(() => {
   *   const id = createFolder('photos') // nested: joins, returns the id
   *   createFile(id, 'cat.jpg')
   * })
   * await db.sync() // both commits durable
   * ```
   */
  transactionSync<R>(fn: () => R extends PromiseLike<unknown> ? never : R): R {
    return this.#core.transactionSync(fn as () => R)
  }

  /**
   * Runs `fn` as one transaction, like {@link transactionSync}, and returns a promise of its result that resolves
   * once the commit is durable under the db's durability mode. The promise **rejects** (the call never throws)
   * when `fn` throws or returns a promise (memory rolled back, nothing written), when the commit is refused, when
   * the db is closed, or when the log failed (`TABLES_LOG_FAILED`).
   *
   * Nested inside another transaction (either form), the call joins it and returns `fn`'s result itself, not a
   * promise (the static type cannot see the nesting, so it still says `Promise<R>`): write operations meant to be
   * composed with {@link transactionSync}, whose type is exact, and use `transaction` for the outermost call.
   *
   * @example
   * ```ts
   * const index = await db.transaction(() => {
   *   db.metadata.insert('a', { name: 'a.md', size: 1, tags: [] })
   *   return db.events.push({ at: Date.now(), what: 'created a' })
   * })
   * ```
   */
  transaction<R>(fn: () => R extends PromiseLike<unknown> ? never : R): Promise<R> {
    return this.#core.transaction(fn as () => R) as Promise<R>
  }

  /**
   * Resolves once every commit so far is durable under the db's durability mode (`fsync`: on disk; `os`: handed
   * to the OS; `memory`: at once). Rejects with `TABLES_LOG_FAILED` if the log failed.
   */
  sync(): Promise<void> {
    return this.#core.sync()
  }

  /**
   * Writes and syncs what is pending, closes the log (releasing the directory's lock) and calls the `onClose`
   * listeners. Later mutations throw `TABLES_CLOSED`; reads keep working on the last state. Idempotent.
   */
  close(): Promise<void> {
    return this.#core.close()
  }

  /**
   * Calls `listener` synchronously at every commit, in seq order, with the commit's seq and its changes grouped by
   * table (only tables the commit touched, each with old and new values), at the in-memory commit: before the
   * commit is durable (see {@link onDurable}). The event is frozen and shared by every listener; it never holds
   * the table's live containers. Returns a function that unsubscribes.
   * A throwing listener does not affect the commit or other listeners; its error goes to the `onListenerError`
   * option (by default rethrown in a microtask, like an EventTarget listener's).
   *
   * @example
   * ```ts
   * const off = db.onCommit(({ seq, changes }) => {
   *   for (const change of changes.metadata ?? []) console.log(seq, change.op)
   * })
   * off()
   * ```
   */
  onCommit(listener: (event: CommitEvent<D>) => void): () => void {
    return this.#core.onCommit(listener as (event: unknown) => void)
  }

  /**
   * Writes the full state as a snapshot and lets the log release the segments it covers. Reads and writes go on
   * while it runs: nothing is copied up front (but each list's array of pointers); the snapshot walks the tables
   * and is encoded and written in small chunks, and a write during it first keeps the old value of what it
   * changes. A crash at any moment loses nothing: the old snapshot and segments stay in use until the new snapshot
   * is durable. Concurrent calls share one compaction. Rejects with `TABLES_READ_ONLY` on a read-only db; throws
   * `TABLES_IN_TRANSACTION` inside a transaction.
   *
   * @example
   * ```ts
   * const { seq, bytes, ms } = await db.compact()
   * ```
   */
  compact(): Promise<CompactInfo> {
    return this.#core.compact()
  }

  /**
   * An order-independent digest of every table's content (16 hex digits, defined in FORMAT.md): two dbs of the
   * same schema holding the same content give the same hash, whatever order of operations built it. Replicas
   * compare theirs with the writer's at the same seq. Reads the whole state: O(entries).
   *
   * @example
   * ```ts
   * await replica.waitFor(db.seq)
   * console.log(replica.stateHash() === db.stateHash()) // -> true
   * ```
   */
  stateHash(): string {
    return this.#core.stateHash()
  }

  /**
   * Resolves once the db has applied commit `seq` (at once if it has): read-your-writes on followers and replicas.
   * Rejects with `TABLES_WAIT_TIMEOUT` after `timeoutMs`, `TABLES_WAIT_ABORTED` when `signal` aborts, and
   * `TABLES_CLOSED` if the db closes first.
   *
   * @example
   * ```ts
   * const seq = await writerCommit() // the seq the writer reported
   * await replica.waitFor(seq, { timeoutMs: 5000 })
   * ```
   */
  waitFor(seq: number, options?: WaitForOptions): Promise<void> {
    return this.#core.waitFor(seq, options)
  }

  /**
   * Calls `listener` with each commit's event (the same event `onCommit` listeners got), in seq order, once the
   * commit is durable under the db's durability mode: after the fdatasync that covers it (`'fsync'`), once handed
   * to the OS (`'os'`), right after the `onCommit` listeners (`'memory'`). It fires after the commit's `onCommit`
   * event and before any durability promise covering the commit (`transaction`, `sync`) settles. Commits lost to
   * a crash or a log failure never get a durable event. Returns a function that unsubscribes. Throws
   * `TABLES_READ_ONLY` on a read-only db (it cannot know when the writer's commits reach the disk). Listener
   * errors go to `onListenerError`, as for `onCommit`.
   *
   * @example
   * ```ts
   * db.onDurable(({ seq, changes }) => {
   *   if (changes.metadata) notifyOtherDevices(seq) // never announces a commit a power cut could lose
   * })
   * ```
   */
  onDurable(listener: (event: CommitEvent<D>) => void): () => void {
    return this.#core.onDurable(listener as (event: unknown) => void)
  }

  /** Calls `listener` once the db has closed (after the log is closed). Returns a function that unsubscribes. */
  onClose(listener: () => void): () => void {
    return this.#core.onClose(listener)
  }
}
