// The state of a table at one seq, captured without a long pause so a snapshot can be written in small chunks
// while reads and writes go on. A Map-backed table is not copied at all: emitting walks the table's own Map with a
// live iterator, which yields the keys in their order at the capture (a Map keeps insertion order, and setting an
// existing key does not move it). The db tells the capture about every operation before it is applied: the first
// time a key present at the capture is about to change, the capture keeps that key's value as it is then (copying
// an inner list, set or map only for that key). Keys added after the capture go to the end of the Map, after every
// key present at it, so the capture takes exactly as many keys from the live iterator as the Map held and never
// needs to note a new key (a bulk load during a compaction costs the capture one Map lookup per row, and no
// memory). The one change a live iterator cannot survive is the removal of a key it has not reached (and a removed
// key that comes back goes to the end): before the first removal the capture drains the captured keys the iterator
// has not yielded yet into an array (one O(remaining keys) step, only when a key is removed while a snapshot is
// being written). A list is copied at once (an array of pointers: a few ms per million items).
//
// The rule compaction relies on: each key present at the capture is emitted once, with its value at that moment, and
// no other key is. A Map capture checks it when its last operation is out (the number of keys it emitted is the
// number the Map held at the capture), and checks, when a collection being emitted from the live table is touched,
// that the copy it then continues from holds at least what was already emitted (invariant.ts).
import type { Key } from '../key.js'
import { violated } from './invariant.js'
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

const OUTSIDE = {}
const CLEARS = new Set<unknown>([OP.LT_CLEAR, OP.LL_CLEAR, OP.LS_CLEAR, OP.LM_CLEAR])
/** Operations that delete a key from a table's Map (element removals leave the key, possibly empty). */
const KEY_REMOVALS = new Set<unknown>([OP.LT_REMOVE, OP.LL_CLEAR_KEY, OP.LS_CLEAR_KEY, OP.LM_CLEAR_KEY])

/**
 * Capture of a Map-backed table. `copy(value)` keeps a key's value safe from later in-place changes (an inner list,
 * set or map is copied; a lookupTable value is immutable and kept as is); `emit(key, value)` yields the ops that
 * rebuild one key. A table-level clear detaches the captured Map (the table gets a new one and the old one is no
 * longer changed), so later operations no longer concern the capture; if that clear is rolled back, the Map is the
 * table's again and noting resumes.
 */
class MapCapture implements TableCapture {
  /** The table's keys in order, read lazily from the live Map. */
  private readonly live: IterableIterator<Key>
  /** Keys taken from the live iterator so far: never more than `size` (the keys after those were added later). */
  private fromLive = 0
  /** The captured keys the live iterator had not yielded yet when a key removal forced them out (see the header). */
  private rest: Key[] | undefined
  private restIndex = 0
  /** Values of keys present at the capture, as they were before a write touched them (never `undefined`). */
  private readonly kept = new Map<Key, unknown>()
  private clearedBy: object | undefined
  /** Keys in the Map at the capture: exactly as many keys are emitted. */
  private readonly size: number

  constructor(
    private readonly base: ReadonlyMap<Key, unknown>,
    private readonly copy: (value: unknown) => unknown,
    private readonly emit: (key: Key, value: unknown, skip: number) => Iterable<Op>,
    /** For tables with one op per key (lookupTable): that op, made without an iterator (a million keys, less garbage). */
    private readonly one?: (key: Key, value: unknown) => Op,
  ) {
    this.live = base.keys()
    this.size = base.size
  }

  willApply(op: Op, txn: object | undefined): void {
    if (this.clearedBy !== undefined) return
    if (CLEARS.has(op[1])) {
      this.clearedBy = txn ?? OUTSIDE
      return
    }
    const key = op[2] as Key
    // A key is about to leave the Map: the live iterator would skip it if it has not reached it yet, and it would
    // come back (a rollback, a later write) at the end, among the keys added after the capture.
    if (this.rest === undefined && KEY_REMOVALS.has(op[1])) this.drain()
    if (this.kept.has(key)) return
    // A key absent now was absent at the capture (a removal of a captured key would have kept its value first).
    // A key present now that was added after the capture is kept too, needlessly but harmlessly: it lies past the
    // `size` keys the capture emits.
    const value = this.base.get(key)
    if (value !== undefined) this.kept.set(key, this.copy(value))
  }

  rolledBack(txn: object): void {
    if (this.clearedBy === txn) this.clearedBy = undefined
  }

  /** Moves the captured keys the live iterator has not yielded yet into `rest`. */
  private drain(): void {
    const rest: Key[] = []
    for (let n = this.size - this.fromLive; n > 0; n--) {
      const next = this.live.next()
      if (next.done) break
      rest.push(next.value)
    }
    this.fromLive = this.size
    this.rest = rest
  }

  private nextKey(): IteratorResult<Key, undefined> {
    const rest = this.rest
    if (rest === undefined) {
      if (this.fromLive === this.size) return { done: true, value: undefined }
      const next = this.live.next() as IteratorResult<Key, undefined>
      if (!next.done) this.fromLive++
      return next
    }
    if (this.restIndex < rest.length) return { done: false, value: rest[this.restIndex++]! }
    return { done: true, value: undefined }
  }

  *ops(): Generator<Op> {
    let emitted = 0
    for (let next = this.nextKey(); !next.done; next = this.nextKey()) {
      const key = next.value
      const kept = this.kept.get(key)
      emitted++
      if (kept !== undefined) {
        if (this.one !== undefined) yield this.one(key, kept)
        else yield* this.emit(key, kept, 0)
        continue
      }
      const value = this.base.get(key)
      if (value === undefined) violated('capture-emits-each-key', { key, reason: 'gone from the table, not kept' })
      if (this.one !== undefined) {
        // One op per key and an immutable value: nothing can change under it.
        yield this.one(key, value)
        continue
      }
      yield* this.emitLive(key, value)
    }
    if (emitted !== this.size) violated('capture-emits-each-key', { keysAtCapture: this.size, emitted })
  }

  /**
   * An inner collection read from the live table, possibly across chunks: if a write touches the key before it is
   * all out, the capture has just kept a copy of it as it was (equal to what was read so far), and the rest comes
   * from that copy. The check runs before the live collection is read again.
   */
  private *emitLive(key: Key, value: unknown): Generator<Op> {
    let done = 0
    for (const op of this.emit(key, value, 0)) {
      yield op
      done++
      const copy = this.kept.get(key)
      if (copy !== undefined) {
        const size = sizeOf(copy)
        if (size < done) violated('capture-copy-covers-emitted', { key, emitted: done, copied: size })
        yield* this.emit(key, copy, done)
        return
      }
    }
  }
}

/** Items of an inner collection (a list, set or map). */
function sizeOf(collection: unknown): number {
  return Array.isArray(collection) ? collection.length : (collection as { size: number }).size
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
  const one = (key: Key, value: unknown): Op => [name, OP.LT_SET, key, value]
  return new MapCapture(map, unchanged, (key, value) => [one(key, value)], one)
}

export function captureLookupList(name: string, map: ReadonlyMap<Key, readonly unknown[]>): TableCapture {
  return new MapCapture(
    map,
    (value) => (value as unknown[]).slice(),
    function* (key, value, skip) {
      const list = value as readonly unknown[]
      if (list.length === 0 && skip === 0) yield [name, OP.LL_CREATE_KEY, key]
      for (let i = skip; i < list.length; i++) yield [name, OP.LL_PUSH, key, list[i]]
    },
  )
}

export function captureLookupSet(name: string, map: ReadonlyMap<Key, ReadonlySet<Key>>): TableCapture {
  return new MapCapture(
    map,
    (value) => new Set(value as Set<Key>),
    function* (key, value, skip) {
      const set = value as ReadonlySet<Key>
      if (set.size === 0 && skip === 0) yield [name, OP.LS_CREATE_KEY, key]
      let i = 0
      for (const v of set) if (i++ >= skip) yield [name, OP.LS_INSERT, key, v]
    },
  )
}

export function captureLookupMap(name: string, map: ReadonlyMap<Key, ReadonlyMap<Key, unknown>>): TableCapture {
  return new MapCapture(
    map,
    (value) => new Map(value as Map<Key, unknown>),
    function* (key, value, skip) {
      const inner = value as ReadonlyMap<Key, unknown>
      if (inner.size === 0 && skip === 0) yield [name, OP.LM_CREATE_KEY, key]
      let i = 0
      for (const [key2, v] of inner) if (i++ >= skip) yield [name, OP.LM_SET, key, key2, v]
    },
  )
}
