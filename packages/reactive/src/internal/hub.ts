// One listener per db and kind of event (in-memory commits, durable commits), shared by every stream on it: streams
// register per table (and per key), and the hub unregisters from the db when the last stream goes, so a db nobody
// watches pays nothing.
import type { AnyTable, CommitEvent, Database, Key, TableChange } from '@homedb/tables'

export type TableListener = (seq: number, changes: readonly TableChange[], reset: boolean) => void
export type KeyListener = (seq: number, reset: boolean) => void

interface TableEntry {
  table: AnyTable
  listeners: Set<TableListener>
  keys: Map<Key, Set<KeyListener>>
}

/** Which events a hub follows: `db.onCommit` (at the in-memory commit) or `db.onDurable` (once durable). */
export type HubKind = 'commit' | 'durable'

const hubs = new WeakMap<Database, { commit?: Hub; durable?: Hub }>()

/** The hub of a db for one kind of event (created on first use). */
export function hubOf(db: Database, kind: HubKind = 'commit'): Hub {
  let pair = hubs.get(db)
  if (!pair) {
    pair = {}
    hubs.set(db, pair)
  }
  pair[kind] ??= new Hub(db, kind)
  return pair[kind]
}

export class Hub {
  private readonly tables = new Map<string, TableEntry>()
  private readonly commitListeners = new Set<(event: CommitEvent) => void>()
  private readonly closeListeners = new Set<() => void>()
  private offCommit: (() => void) | undefined
  private offClose: (() => void) | undefined
  private subscriptions = 0

  constructor(
    private readonly db: Database,
    private readonly kind: HubKind,
  ) {}

  /** Registers a commit listener; returns its release. */
  addCommitListener(listener: (event: CommitEvent) => void, onClose: () => void): () => void {
    this.commitListeners.add(listener)
    return this.track(onClose, () => this.commitListeners.delete(listener))
  }

  addTableListener(table: AnyTable, listener: TableListener, onClose: () => void): () => void {
    const entry = this.entry(table)
    entry.listeners.add(listener)
    return this.track(onClose, () => {
      entry.listeners.delete(listener)
      this.dropEntryIfEmpty(entry)
    })
  }

  addKeyListener(table: AnyTable, key: Key, listener: KeyListener, onClose: () => void): () => void {
    const entry = this.entry(table)
    let set = entry.keys.get(key)
    if (!set) {
      set = new Set()
      entry.keys.set(key, set)
    }
    set.add(listener)
    const keySet = set
    return this.track(onClose, () => {
      keySet.delete(listener)
      if (keySet.size === 0) entry.keys.delete(key)
      this.dropEntryIfEmpty(entry)
    })
  }

  private entry(table: AnyTable): TableEntry {
    let entry = this.tables.get(table.name)
    if (!entry) {
      entry = { table, listeners: new Set(), keys: new Map() }
      this.tables.set(table.name, entry)
    }
    return entry
  }

  private dropEntryIfEmpty(entry: TableEntry): void {
    if (entry.listeners.size === 0 && entry.keys.size === 0) this.tables.delete(entry.table.name)
  }

  /**
   * Counts a subscription, attaching to the db on the first; returns the release that detaches on the last. If the
   * db refuses the listener (`onDurable` on a read-only db), the registration is undone and the error thrown.
   */
  private track(onClose: () => void, remove: () => void): () => void {
    if (this.subscriptions === 0) {
      // The db delivers in seq order, and a commit made by a listener after the event being delivered: the hub
      // relies on that instead of queueing again.
      const dispatch = (event: CommitEvent) => this.dispatch(event)
      try {
        this.offCommit = this.kind === 'commit' ? this.db.onCommit(dispatch) : this.db.onDurable(dispatch)
      } catch (error) {
        remove()
        throw error
      }
      this.offClose = this.db.onClose(() => this.closeAll())
    }
    this.subscriptions++
    this.closeListeners.add(onClose)
    let released = false
    return () => {
      if (released) return
      released = true
      remove()
      this.closeListeners.delete(onClose)
      if (--this.subscriptions === 0) {
        this.offCommit?.()
        this.offClose?.()
        this.offCommit = this.offClose = undefined
      }
    }
  }

  private dispatch(event: CommitEvent): void {
    for (const listener of [...this.commitListeners]) listener(event)
    const reset = (event as { reset?: boolean }).reset === true
    const byTable = event.changes as Readonly<Record<string, readonly TableChange[] | undefined>>
    for (const entry of [...this.tables.values()]) {
      const changes = byTable[entry.table.name]
      if (!changes && !reset) continue
      for (const listener of [...entry.listeners]) listener(event.seq, changes ?? [], reset)
      if (entry.keys.size > 0) this.dispatchKeys(entry, event.seq, changes ?? [], reset)
    }
  }

  private dispatchKeys(entry: TableEntry, seq: number, changes: readonly TableChange[], reset: boolean): void {
    let touched: Set<Key> | 'all' = new Set()
    if (reset) touched = 'all'
    else {
      for (const change of changes) {
        if (change.op === 'clear') {
          touched = 'all'
          break
        }
        if ('key' in change) touched.add(change.key)
      }
    }
    const keys = touched === 'all' ? [...entry.keys.keys()] : [...touched].filter((k) => entry.keys.has(k))
    for (const key of keys) {
      for (const listener of [...(entry.keys.get(key) ?? [])]) listener(seq, reset)
    }
  }

  private closeAll(): void {
    for (const onClose of [...this.closeListeners]) onClose()
  }
}
