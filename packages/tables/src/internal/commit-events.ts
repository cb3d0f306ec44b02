// The two kinds of commit event a db emits and when: `onCommit` at the in-memory commit (right for UI and caches),
// `onDurable` once the commit is durable under the db's durability mode (right for telling other machines). The
// db hands every commit's event here; this file owns the listener lists, the in-order delivery, the queue of
// events waiting for durability, and the promise every durability wait (`sync()`, a transaction's promise) goes
// through, so that no durability promise for seq S settles before the durable event of S was delivered.
import type { Log } from '@homedb/log'
import type { TableChange } from '../table-change.js'

/** The commit event in its untyped internal form (the public type is `CommitEvent<D>`). */
export interface RawCommitEvent {
  readonly seq: number
  readonly changes: { readonly [table: string]: readonly TableChange[] }
  /** Set on the event a follower emits after reloading from a snapshot (no changes: read the state again). */
  readonly reset?: true
}

/** A commit or durable listener. */
export type CommitListener = (event: RawCommitEvent) => void

/**
 * The event delivery of one db. `commit(event)` is called at every in-memory commit (only when {@link listening});
 * durable events follow the log's `sync()`: an event is delivered once a sync that began after its commit resolved.
 */
export class CommitEvents {
  readonly #log: Log
  readonly #onListenerError: (error: unknown) => void
  #commitListeners: readonly CommitListener[] = []
  #durableListeners: readonly CommitListener[] = []
  /** In-memory events not delivered yet because a listener committed while being called (delivered in order). */
  readonly #queue: RawCommitEvent[] = []
  #emitting = false
  /** Committed events waiting for durability, in seq order. */
  readonly #pending: RawCommitEvent[] = []
  #delivering = false

  constructor(log: Log, onListenerError: (error: unknown) => void) {
    this.#log = log
    this.#onListenerError = onListenerError
  }

  /** True if some listener wants events: only then does the db build them. */
  get listening(): boolean {
    return this.#commitListeners.length > 0 || this.#durableListeners.length > 0
  }

  onCommit(listener: CommitListener): () => void {
    this.#commitListeners = [...this.#commitListeners, listener]
    return removal(
      listener,
      () => this.#commitListeners,
      (list) => (this.#commitListeners = list),
    )
  }

  onDurable(listener: CommitListener): () => void {
    this.#durableListeners = [...this.#durableListeners, listener]
    return removal(
      listener,
      () => this.#durableListeners,
      (list) => (this.#durableListeners = list),
    )
  }

  /** Drops every listener (the db closed). */
  clear(): void {
    this.#commitListeners = []
    this.#durableListeners = []
    this.#pending.length = 0
  }

  /**
   * Delivers a commit's event: to the `onCommit` listeners now (in seq order even if a listener commits while
   * being called), and to the `onDurable` listeners once durable (right after the in-memory delivery with
   * `'memory'` durability). The event and everything in it are frozen first: listeners share them.
   */
  commit(event: RawCommitEvent): void {
    seal(event)
    if (this.#emitting) {
      this.#queue.push(event)
      return
    }
    this.#emitting = true
    try {
      for (let next: RawCommitEvent | undefined = event; next !== undefined; next = this.#queue.shift()) {
        this.#deliver(this.#commitListeners, next)
        if (this.#durableListeners.length === 0) continue
        if (this.#log.durability === 'memory') this.#deliver(this.#durableListeners, next)
        else this.#awaitDurable(next)
      }
    } finally {
      this.#emitting = false
    }
  }

  /**
   * Resolves once every commit up to `seq` (the db's seq now) is durable, after the durable events up to it were
   * delivered. Rejects with the log's error if it failed.
   */
  whenDurable(seq: number): Promise<void> {
    return this.#log.sync().then(() => this.deliverDurable(seq))
  }

  /** Delivers the durable events of every pending commit up to `seq` (known durable), in seq order. */
  deliverDurable(seq: number): void {
    if (this.#delivering) return
    this.#delivering = true
    try {
      while (this.#pending.length > 0 && this.#pending[0]!.seq <= seq) {
        this.#deliver(this.#durableListeners, this.#pending.shift()!)
      }
    } finally {
      this.#delivering = false
    }
  }

  /**
   * Queues `event` until the log says its commit is durable. One sync waiter per commit, so that after a failure
   * the commits of the batches that did reach the disk still get their durable events.
   */
  #awaitDurable(event: RawCommitEvent): void {
    this.#pending.push(event)
    this.#log.sync().then(
      () => this.deliverDurable(event.seq),
      () => {
        // The log failed: this commit and every later one may never become durable; their events are dropped.
        this.#pending.length = 0
      },
    )
  }

  #deliver(listeners: readonly CommitListener[], event: RawCommitEvent): void {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        this.#onListenerError(error)
      }
    }
  }
}

/** Freezes an event, its per-table arrays and their change records (the values in them are already frozen). */
function seal(event: RawCommitEvent): void {
  for (const name in event.changes) {
    const list = event.changes[name]!
    for (let i = 0; i < list.length; i++) Object.freeze(list[i])
    Object.freeze(list)
  }
  Object.freeze(event.changes)
  Object.freeze(event)
}

/**
 * The removal of a listener from a list held as `get()` / `set()` (idempotent). Lists are replaced, never changed in
 * place, so a delivery loop that is running keeps the list it started with.
 */
export function removal<L>(listener: L, get: () => readonly L[], set: (list: readonly L[]) => void): () => void {
  let active = true
  return () => {
    if (!active) return
    active = false
    const index = get().indexOf(listener)
    if (index >= 0) set(get().filter((_, i) => i !== index))
  }
}
