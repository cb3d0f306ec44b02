// The state of a table at one seq, captured in O(keys) cheap work so a snapshot can be written in small chunks
// while reads and writes go on. A capture copies only the list of keys (or a list's array of pointers) at the
// start. Afterwards the db tells it about every operation before the operation is applied: the first time a key
// is about to change, the capture keeps that key's value as it is then (copying an inner list, set or map only
// for that key, order preserved). Emitting walks the captured keys and takes each value from what was kept, else
// from the table's structure, where that key has not changed.
import type { Key } from '../types.js'
import { OP, type Op } from './opcodes.js'

/** A table's state frozen at one point in time, readable chunk by chunk. */
export interface TableCapture {
  /** Must be called before every operation applied to the table after the capture began. `txn` identifies the transaction (or undefined). */
  willApply(op: Op, txn: object | undefined): void
  /** The transaction `txn` rolled back (the table's structure is restored). */
  rolledBack(txn: object): void
  /** The operations that rebuild the captured state from an empty table, in a deterministic order. */
  ops(): Generator<Op>
}

/** Marks a key that did not exist when the capture began. */
const ABSENT: unique symbol = Symbol('absent')
const OUTSIDE = {}
const CLEARS = new Set<unknown>([OP.LT_CLEAR, OP.LL_CLEAR, OP.LS_CLEAR, OP.LM_CLEAR])

/**
 * Capture of a Map-backed table. `copy(value)` keeps a key's value safe from later in-place changes (an inner list,
 * set or map is copied; a lookupTable value is immutable and kept as is); `emit(key, value)` yields the ops that
 * rebuild one key. A table-level clear detaches the captured Map (the table gets a new one), so later operations
 * no longer concern the capture; if that clear is rolled back, the Map is the table's again and noting resumes.
 */
class MapCapture implements TableCapture {
  private readonly keys: Key[]
  private readonly kept = new Map<Key, unknown>()
  private clearedBy: object | undefined

  constructor(
    private readonly base: ReadonlyMap<Key, unknown>,
    private readonly copy: (value: unknown) => unknown,
    private readonly emit: (key: Key, value: unknown) => Iterable<Op>,
  ) {
    this.keys = Array.from(base.keys())
  }

  willApply(op: Op, txn: object | undefined): void {
    if (this.clearedBy !== undefined) return
    if (CLEARS.has(op[1])) {
      this.clearedBy = txn ?? OUTSIDE
      return
    }
    const key = op[2] as Key
    if (this.kept.has(key)) return
    const value = this.base.get(key)
    this.kept.set(key, value === undefined ? ABSENT : this.copy(value))
  }

  rolledBack(txn: object): void {
    if (this.clearedBy === txn) this.clearedBy = undefined
  }

  *ops(): Generator<Op> {
    for (const key of this.keys) {
      const value = this.kept.has(key) ? this.kept.get(key) : this.base.get(key)
      if (value !== ABSENT && value !== undefined) yield* this.emit(key, value)
    }
  }
}

const unchanged = (value: unknown): unknown => value

/** Capture of a `single` table: its value at the start (values are immutable, so this is O(1)). */
export function captureSingle(name: string, value: unknown): TableCapture {
  return {
    willApply() {},
    rolledBack() {},
    *ops() {
      if (value !== undefined) yield [name, OP.SINGLE_SET, value]
    },
  }
}

/** Capture of a `list`: a copy of its array of pointers (a few ms per million items). */
export function captureList(name: string, items: readonly unknown[]): TableCapture {
  const copy = items.slice()
  return {
    willApply() {},
    rolledBack() {},
    *ops() {
      for (const value of copy) yield [name, OP.LIST_PUSH, value]
    },
  }
}

export function captureLookupTable(name: string, map: ReadonlyMap<Key, unknown>): TableCapture {
  return new MapCapture(map, unchanged, (key, value) => [[name, OP.LT_SET, key, value]])
}

export function captureLookupList(name: string, map: ReadonlyMap<Key, readonly unknown[]>): TableCapture {
  return new MapCapture(
    map,
    (value) => (value as unknown[]).slice(),
    function* (key, value) {
      const list = value as readonly unknown[]
      if (list.length === 0) yield [name, OP.LL_CREATE_KEY, key]
      for (const v of list) yield [name, OP.LL_PUSH, key, v]
    },
  )
}

export function captureLookupSet(name: string, map: ReadonlyMap<Key, ReadonlySet<Key>>): TableCapture {
  return new MapCapture(
    map,
    (value) => new Set(value as Set<Key>),
    function* (key, value) {
      const set = value as ReadonlySet<Key>
      if (set.size === 0) yield [name, OP.LS_CREATE_KEY, key]
      for (const v of set) yield [name, OP.LS_INSERT, key, v]
    },
  )
}

export function captureLookupMap(name: string, map: ReadonlyMap<Key, ReadonlyMap<Key, unknown>>): TableCapture {
  return new MapCapture(
    map,
    (value) => new Map(value as Map<Key, unknown>),
    function* (key, value) {
      const inner = value as ReadonlyMap<Key, unknown>
      if (inner.size === 0) yield [name, OP.LM_CREATE_KEY, key]
      for (const [key2, v] of inner) yield [name, OP.LM_SET, key, key2, v]
    },
  )
}
