// What lookupList, lookupSet and lookupMap share: a Map from each key to an inner collection (an array, a Set or
// a Map), the read-only forms in which those collections are handed out (see read-only-view.ts), and the
// operations on whole keys (createKey, clearKey, clear) with their opcodes, change records and undo. Each subclass
// keeps its element operations (push, insert, remove …) first in its [APPLY] and [UNDO], so its hot paths go
// through nothing more, and hands every other operation to applyKeyOp / undoKeyChange.
import type { Key } from '../key.js'
import type { TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'
import { BaseTable, RESET, type TableHost } from './base-table.js'
import { isKey } from './key-checks.js'
import type { Op } from './opcodes.js'
import { mapBehind, mapView } from './read-only-view.js'

/** The table kinds backed by a Map of inner collections. */
type KeyedKind = 'lookupList' | 'lookupSet' | 'lookupMap'

/** The opcodes of one kind's whole-key operations. */
export interface KeyOpcodes {
  readonly createKey: number
  readonly clearKey: number
  readonly clear: number
}

/**
 * How a kind hands out its inner collections: `view` turns one into what a read may return (a frozen array, a
 * read-only Set or Map view), `unview` gets the collection back from it (undo of a `clearKey`).
 */
export interface InnerForms<Inner, View> {
  readonly empty: () => Inner
  readonly view: (inner: Inner) => View
  readonly unview: (view: View) => Inner
}

/**
 * Where a keyed table keeps its data: key → inner collection (never handed out: `data` is a view of it; a
 * table-level clear replaces the Map). The subclass creates it and hands it to this class, so both reach the Map
 * through a private field and users cannot reach it at all.
 */
export interface KeyedStore<Inner> {
  map: Map<Key, Inner>
}

/** The change records of the whole-key operations, the same shape in the three kinds. */
type KeyChange =
  | { readonly op: 'createKey'; readonly key: Key }
  | { readonly op: 'clearKey'; readonly key: Key; readonly previous: unknown }
  | { readonly op: 'clear'; readonly previous: ReadonlyMap<Key, unknown> }

/**
 * The common part of the keyed-collection tables. `Inner` is what the table stores under a key, `View` what
 * users get for it (a readonly list, set or map).
 */
export abstract class KeyedTable<Kind extends KeyedKind, K extends Key, Inner, View> extends BaseTable<Kind> {
  readonly #host: TableHost
  /** The store this class and its subclass share (see {@link KeyedStore}). */
  readonly #store: KeyedStore<Inner>
  readonly #ops: KeyOpcodes
  /** Typed loosely (`unknown` views) so that the class stays covariant in `View` (see AnyTable). */
  readonly #forms: InnerForms<Inner, unknown>

  /** @internal */
  constructor(
    host: TableHost,
    name: string,
    kind: Kind,
    ops: KeyOpcodes,
    forms: InnerForms<Inner, unknown>,
    def: TableDef,
    store: KeyedStore<Inner>,
  ) {
    super(host, name, kind, def)
    this.#host = host
    this.#store = store
    this.#ops = ops
    this.#forms = forms
  }

  /** Number of keys. */
  get size(): number {
    return this.#store.map.size
  }

  /**
   * A live read-only view of the table: key → collection, each collection in its read-only form (not a `Map`
   * instance: it has the read members only). `clear()` gives the table a new map, so a view taken before it keeps
   * showing the old contents.
   */
  get data(): ReadonlyMap<K, View> {
    return mapView(this.#store.map as unknown as ReadonlyMap<K, Inner>, this.#forms.view as (inner: unknown) => View)
  }

  /** `[key, collection]` pairs in insertion order. */
  [Symbol.iterator](): IterableIterator<[K, View]> {
    return this.data.entries()
  }

  /** The keys in insertion order. */
  keys(): IterableIterator<K> {
    return (this.#store.map as unknown as Map<K, Inner>).keys()
  }

  /** The collections in key insertion order, each in its read-only form. */
  values(): IterableIterator<View> {
    return this.data.values()
  }

  /** `[key, collection]` pairs in insertion order (what iterating the table yields). */
  entries(): IterableIterator<[K, View]> {
    return this.data.entries()
  }

  /** Calls `callback(collection, key)` for each key in insertion order, like `Map.prototype.forEach`. */
  forEach(callback: (value: View, key: K) => void, thisArg?: unknown): void {
    for (const [key, value] of this.data) callback.call(thisArg, value, key)
  }

  /** Creates `key` with an empty collection. Returns false (and writes nothing) if it already exists. */
  createKey(key: K): boolean {
    const host = this.#host
    host.assertWritable(this.name)
    const k = this.toKey(key)
    if (this.#store.map.has(k)) return false
    host.mutate(this, [this.name, this.#ops.createKey, k])
    return true
  }

  /**
   * Removes `key` and its collection, and returns the collection (`undefined`, and nothing written, if the key
   * did not exist).
   */
  clearKey(key: K): View | undefined {
    const host = this.#host
    host.assertWritable(this.name)
    const k = this.toKey(key)
    if (!this.#store.map.has(k)) return undefined
    return host.mutate(this, [this.name, this.#ops.clearKey, k]).previous as View
  }

  /** Removes every key (nothing is written if the table is empty). */
  clear(): void {
    this.#host.assertWritable(this.name)
    if (this.#store.map.size > 0) this.#host.mutate(this, [this.name, this.#ops.clear])
  }

  /**
   * Applies `op`, which must be a whole-key operation (see APPLY in base-table.ts): any other opcode is refused as
   * unknown to this kind. Returns whether it only added (a key created).
   * @internal
   */
  protected applyKeyOp(op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    const map = this.#store.map
    const key = op[2] as Key
    const ops = this.#ops
    const record = (change: KeyChange): void => {
      out?.push(change as TableChange)
    }
    switch (op[1]) {
      case ops.createKey:
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        if (map.has(key)) return false
        map.set(key, this.#forms.empty())
        record({ op: 'createKey', key })
        return true
      case ops.clearKey: {
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        const previous = map.get(key)
        if (previous === undefined) return false
        map.delete(key)
        record({ op: 'clearKey', key, previous: this.#forms.view(previous) })
        return false
      }
      case ops.clear:
        if (map.size === 0) return false
        this.#store.map = new Map()
        record({ op: 'clear', previous: mapView(map, this.#forms.view as (inner: unknown) => unknown) })
        return false
      default:
        return this.badOp(op, `unknown opcode for a ${this.kind}`)
    }
  }

  /**
   * Reverts a whole-key change record; false if `change` is not one of them.
   * @internal
   */
  protected undoKeyChange(change: TableChange): boolean {
    const c = change as KeyChange
    switch (c.op) {
      case 'createKey':
        this.#store.map.delete(c.key)
        return true
      case 'clearKey':
        this.#store.map.set(c.key, this.#forms.unview(c.previous))
        return true
      case 'clear':
        this.#store.map = mapBehind(c.previous)
        return true
      default:
        return false
    }
  }

  /** @internal */
  [RESET](): void {
    this.#store.map = new Map()
  }
}
