// The state of a table at one seq, captured in O(keys) cheap work so a snapshot can be written in small chunks
// while reads and writes go on. A capture copies only the list of keys (or a list's array of pointers) at the
// start; afterwards every change to the table is noted, and the first change to a key records that key's value
// as it was at the capture (copying an inner list, set or map only then). Emitting walks the captured keys and
// takes each value from the notes, else from the table's (unchanged) structure.
import type { Key, TableChange } from '../types.js'
import { OP, type Op } from './opcodes.js'

/** A table's state frozen at one point in time, readable chunk by chunk. */
export interface TableCapture {
  /** Must see every change made to the table after the capture began, right after it is applied. */
  note(change: TableChange): void
  /** A transaction rolled back: `changes` are its change records (the table's structure is restored). */
  rolledBack(changes: readonly TableChange[]): void
  /** The operations that rebuild the captured state from an empty table, in a deterministic order. */
  ops(): Generator<Op>
}

/** Marks a key that did not exist when the capture began. */
const ABSENT: unique symbol = Symbol('absent')
type Before = unknown | typeof ABSENT

/** A change record seen loosely: the fields a capture reads. */
type Loose = {
  readonly op: string
  readonly key?: Key
  readonly key2?: Key
  readonly index?: number
  readonly value?: unknown
  readonly previous?: unknown
}

/**
 * Capture of a Map-backed table. `before(change, current)` reconstructs a key's value as it was just before
 * `change` (from the change and the key's current value); `emit(key, value)` yields the ops that rebuild one key.
 * A `clear` detaches the captured Map (the table gets a new one), so changes after it are not noted; if the clear
 * is rolled back the Map is the table's again and noting resumes.
 */
class MapCapture implements TableCapture {
  private readonly keys: Key[]
  private readonly notes = new Map<Key, Before>()
  private clearedBy: TableChange | undefined

  constructor(
    private readonly base: ReadonlyMap<Key, unknown>,
    private readonly before: (change: Loose, current: unknown) => Before,
    private readonly emit: (key: Key, value: unknown) => Iterable<Op>,
  ) {
    this.keys = Array.from(base.keys())
  }

  note(change: TableChange): void {
    if (this.clearedBy !== undefined) return
    if (change.op === 'clear') {
      this.clearedBy = change
      return
    }
    const key = (change as unknown as Loose).key as Key
    if (!this.notes.has(key)) this.notes.set(key, this.before(change as unknown as Loose, this.base.get(key)))
  }

  rolledBack(changes: readonly TableChange[]): void {
    if (this.clearedBy !== undefined && changes.includes(this.clearedBy)) this.clearedBy = undefined
  }

  *ops(): Generator<Op> {
    for (const key of this.keys) {
      const value = this.notes.has(key) ? this.notes.get(key) : this.base.get(key)
      if (value !== ABSENT && value !== undefined) yield* this.emit(key, value)
    }
  }
}

/** Capture of a `single` table: its value at the start (values are immutable, so this is O(1)). */
export function captureSingle(name: string, value: unknown): TableCapture {
  return {
    note() {},
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
    note() {},
    rolledBack() {},
    *ops() {
      for (const value of copy) yield [name, OP.LIST_PUSH, value]
    },
  }
}

export function captureLookupTable(name: string, map: ReadonlyMap<Key, unknown>): TableCapture {
  return new MapCapture(
    map,
    (change) => (change.op === 'set' && change.previous === undefined ? ABSENT : change.previous),
    (key, value) => [[name, OP.LT_SET, key, value]],
  )
}

/** Lists per key: the first change copies that key's list and undoes the change on the copy. */
export function captureLookupList(name: string, map: ReadonlyMap<Key, readonly unknown[]>): TableCapture {
  return new MapCapture(
    map,
    (change, current) => {
      switch (change.op) {
        case 'createKey':
          return ABSENT
        case 'clearKey':
          return change.previous
        case 'push': {
          const copy = (current as unknown[]).slice()
          copy.splice(change.index as number, 1)
          return copy
        }
        default: {
          const copy = (current as unknown[]).slice()
          copy.splice(change.index as number, 0, change.previous)
          return copy
        }
      }
    },
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
    (change, current) => {
      switch (change.op) {
        case 'createKey':
          return ABSENT
        case 'clearKey':
          return change.previous
        case 'insert': {
          const copy = new Set(current as Set<Key>)
          copy.delete(change.value as Key)
          return copy
        }
        default: {
          const copy = new Set(current as Set<Key>)
          copy.add(change.value as Key)
          return copy
        }
      }
    },
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
    (change, current) => {
      switch (change.op) {
        case 'createKey':
          return ABSENT
        case 'clearKey':
          return change.previous
        default: {
          const copy = new Map(current as Map<Key, unknown>)
          if (change.previous === undefined) copy.delete(change.key2 as Key)
          else copy.set(change.key2 as Key, change.previous)
          return copy
        }
      }
    },
    function* (key, value) {
      const inner = value as ReadonlyMap<Key, unknown>
      if (inner.size === 0) yield [name, OP.LM_CREATE_KEY, key]
      for (const [key2, v] of inner) yield [name, OP.LM_SET, key, key2, v]
    },
  )
}
