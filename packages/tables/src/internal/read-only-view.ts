// What a read hands out instead of a table's live containers, so that no read (casts and plain JavaScript
// included) can change memory behind the log's back. Arrays are frozen in place when handed out (Object.freeze on
// an array is O(1) in V8) and marked, and the table copies a marked array before its next write to it ("copy on
// write after share"): a handed-out array is a snapshot that never changes. (The mark is a property, not
// Object.isFrozen: checking it costs a property load instead of a call into the runtime.) Maps and Sets cannot be frozen, so
// they are handed out as live read-only views: frozen objects with the read members of ReadonlyMap / ReadonlySet
// and no way to reach the container behind them. Each container keeps its one view (a symbol-keyed property on the
// container itself, which is never handed out), so `get(k) === get(k)` still holds.

/** Where a container keeps its view. */
const VIEW: unique symbol = Symbol('homedb.tables.view')
/** Set (non-enumerable) on an array that was handed out and frozen. */
const SHARED: unique symbol = Symbol('homedb.tables.shared')
/** Node's hook for `console.log` / `util.inspect`, so a view prints its contents like the Map or Set it shows. */
const INSPECT = Symbol.for('nodejs.util.inspect.custom')
type Inspect = (value: unknown, options: unknown) => string

type Viewed = { [VIEW]?: unknown }
type Marked = { [SHARED]?: true }

/** Freezes and marks `array` (O(1)) and returns it: the owner must copy it before changing it (see {@link isShared}). */
export function share<T>(array: T[]): readonly T[] {
  if ((array as Marked)[SHARED] !== true) {
    Object.defineProperty(array, SHARED, { value: true })
    Object.freeze(array)
  }
  return array
}

/** True if `array` was handed out by {@link share}: it is frozen, and its owner must change a copy instead. */
export function isShared(array: readonly unknown[]): boolean {
  return (array as Marked)[SHARED] === true
}

let mapOf: (view: ReadonlyMapView<unknown, unknown>) => ReadonlyMap<unknown, unknown>
let setOf: (view: ReadonlySetView<unknown>) => ReadonlySet<unknown>

/**
 * A live read-only view of a Map: `get`, `has`, `size`, `keys`, `values`, `entries`, `forEach` and iteration, no
 * mutators, and no way to reach the Map. `wrap` turns each stored value into what may be handed out (an inner
 * container's own view); without it values are handed out as stored (they are frozen).
 */
export class ReadonlyMapView<K, V> {
  readonly #map: ReadonlyMap<K, unknown>
  readonly #wrap: ((inner: unknown) => V) | undefined

  static {
    mapOf = (view) => view.#map
  }

  constructor(map: ReadonlyMap<K, unknown>, wrap?: (inner: unknown) => V) {
    this.#map = map
    this.#wrap = wrap
    Object.freeze(this) // shared by every reader: nobody may deface it for the others
  }

  get size(): number {
    return this.#map.size
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key)
    const wrap = this.#wrap
    return wrap === undefined || value === undefined ? (value as V | undefined) : wrap(value)
  }

  has(key: K): boolean {
    return this.#map.has(key)
  }

  keys(): IterableIterator<K> {
    return this.#map.keys()
  }

  values(): IterableIterator<V> {
    const wrap = this.#wrap
    if (wrap === undefined) return this.#map.values() as IterableIterator<V>
    return mapIterator(this.#map.values(), wrap)
  }

  entries(): IterableIterator<[K, V]> {
    const wrap = this.#wrap
    if (wrap === undefined) return this.#map.entries() as IterableIterator<[K, V]>
    return mapIterator(this.#map.entries(), ([key, value]): [K, V] => [key, wrap(value)])
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries()
  }

  /** Calls `callback(value, key, view)` for each entry, like `Map.prototype.forEach` (the view, not the Map). */
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    const wrap = this.#wrap
    for (const [key, value] of this.#map) {
      callback.call(thisArg, wrap === undefined ? (value as V) : wrap(value), key, this as unknown as ReadonlyMap<K, V>)
    }
  }

  get [Symbol.toStringTag](): string {
    return 'ReadonlyMap'
  }

  [INSPECT](_depth: number, options: unknown, inspect: Inspect): string {
    return `Readonly${inspect(new Map(this.entries()), options)}`
  }
}

/** A live read-only view of a Set: `has`, `size`, `keys`, `values`, `entries`, `forEach` and iteration. */
export class ReadonlySetView<T> {
  readonly #set: ReadonlySet<T>

  static {
    setOf = (view) => view.#set
  }

  constructor(set: ReadonlySet<T>) {
    this.#set = set
    Object.freeze(this) // shared by every reader: nobody may deface it for the others
  }

  get size(): number {
    return this.#set.size
  }

  has(value: T): boolean {
    return this.#set.has(value)
  }

  keys(): IterableIterator<T> {
    return this.#set.values()
  }

  values(): IterableIterator<T> {
    return this.#set.values()
  }

  entries(): IterableIterator<[T, T]> {
    return this.#set.entries()
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.#set.values()
  }

  /** Calls `callback(value, value, view)` for each member, like `Set.prototype.forEach` (the view, not the Set). */
  forEach(callback: (value: T, value2: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const value of this.#set) callback.call(thisArg, value, value, this as unknown as ReadonlySet<T>)
  }

  get [Symbol.toStringTag](): string {
    return 'ReadonlySet'
  }

  [INSPECT](_depth: number, options: unknown, inspect: Inspect): string {
    return `Readonly${inspect(new Set(this.#set), options)}`
  }
}

/** The view of `map` (created once per Map), typed as what users see. */
export function mapView<K, V>(map: ReadonlyMap<K, unknown>, wrap?: (inner: unknown) => V): ReadonlyMap<K, V> {
  const view = (map as unknown as Viewed)[VIEW]
  if (view !== undefined) return view as ReadonlyMap<K, V>
  const made = new ReadonlyMapView(map, wrap)
  ;(map as unknown as Viewed)[VIEW] = made
  return made as unknown as ReadonlyMap<K, V>
}

/** The view of `set` (created once per Set), typed as what users see. */
export function setView<T>(set: ReadonlySet<T>): ReadonlySet<T> {
  const view = (set as unknown as Viewed)[VIEW]
  if (view !== undefined) return view as ReadonlySet<T>
  const made = new ReadonlySetView(set)
  ;(set as unknown as Viewed)[VIEW] = made
  return made as unknown as ReadonlySet<T>
}

/** The Map behind a view made by {@link mapView} (the tables' undo of a `clear`). */
export function mapBehind<K, V>(view: ReadonlyMap<K, unknown>): Map<K, V> {
  return mapOf(view as unknown as ReadonlyMapView<unknown, unknown>) as Map<K, V>
}

/** The Set behind a view made by {@link setView} (the undo of a lookupSet `clearKey`). */
export function setBehind<T>(view: ReadonlySet<T>): Set<T> {
  return setOf(view as unknown as ReadonlySetView<unknown>) as Set<T>
}

/** An iterator yielding `fn` of each item of `source`, lazily. */
function mapIterator<S, T>(source: Iterator<S>, fn: (item: S) => T): IterableIterator<T> {
  const iterator: IterableIterator<T> = {
    next(): IteratorResult<T> {
      const step = source.next()
      return step.done === true ? { done: true, value: undefined } : { done: false, value: fn(step.value) }
    },
    [Symbol.iterator]() {
      return iterator
    },
  }
  return iterator
}
