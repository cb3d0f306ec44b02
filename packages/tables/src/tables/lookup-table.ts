// A key → value table, backed by one Map (reads are a Map lookup; iteration is in insertion order).

import { APPLY, BaseTable, CAPTURE, RESET, type TableHost, UNDO } from '../internal/base-table.js'
import { isKey } from '../internal/key-checks.js'
import { notFound } from '../internal/not-found.js'
import { OP, type Op } from '../internal/opcodes.js'
import { mapBehind, mapView } from '../internal/read-only-view.js'
import { captureLookupTable, type TableCapture } from '../internal/state-capture.js'
import { deepFreeze } from '../internal/validate.js'
import type { Key } from '../key.js'
import type { DeepReadonly, Insertable, Updater } from '../stored-value.js'
import type { LookupTableChange, TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'

type Change = LookupTableChange<Key, unknown>

/**
 * A table mapping keys to values. Declare it with `lookupTable<K, V>()`. Iterating yields `[key, value]` pairs
 * in insertion order.
 *
 * @example
 * ```ts
 * db.metadata.insert('a', { name: 'a.md', size: 1, tags: [] })
 * // The stored object itself, not a copy:
 * db.metadata.get('a') === db.metadata.get('a') // -> true
 * for (const [id, meta] of db.metadata) console.log(id, meta.size)
 * ```
 */
export class LookupTable<K extends Key, V> extends BaseTable<'lookupTable'> {
  readonly #host: TableHost
  #map = new Map<Key, unknown>()

  /** @internal */
  constructor(host: TableHost, name: string, def: TableDef) {
    super(host, name, 'lookupTable', def)
    this.#host = host
  }

  /** The value stored under `key` (the object itself), or `undefined`. */
  get(key: K): DeepReadonly<V> | undefined {
    return this.#map.get(key) as DeepReadonly<V> | undefined
  }

  /** Whether a value is stored under `key`. */
  has(key: K): boolean {
    return this.#map.has(key)
  }

  /** Number of keys. */
  get size(): number {
    return this.#map.size
  }

  /**
   * A live read-only view of the table's map (no copy; not a `Map` instance: it has the read members only).
   * `clear()` gives the table a new map, so a view taken before it keeps showing the old contents.
   */
  get data(): ReadonlyMap<K, DeepReadonly<V>> {
    return mapView(this.#map as unknown as ReadonlyMap<K, DeepReadonly<V>>)
  }

  /** `[key, value]` pairs in insertion order. */
  [Symbol.iterator](): IterableIterator<[K, DeepReadonly<V>]> {
    return (this.#map as Map<K, DeepReadonly<V>>).entries()
  }

  /** The keys in insertion order. */
  keys(): IterableIterator<K> {
    return (this.#map as Map<K, unknown>).keys()
  }

  /** The values in insertion order. */
  values(): IterableIterator<DeepReadonly<V>> {
    return (this.#map as Map<K, DeepReadonly<V>>).values()
  }

  /** `[key, value]` pairs in insertion order (what iterating the table yields). */
  entries(): IterableIterator<[K, DeepReadonly<V>]> {
    return (this.#map as Map<K, DeepReadonly<V>>).entries()
  }

  /** Calls `callback(value, key)` for each entry in insertion order, like `Map.prototype.forEach`. */
  forEach(callback: (value: DeepReadonly<V>, key: K) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#map) callback.call(thisArg, value as DeepReadonly<V>, key as K)
  }

  /**
   * Stores `value` under `key`, **replacing** any value already there (an upsert, recorded as a `set`), and returns
   * the value it replaced. See {@link insertIfAbsent} and {@link update} for the other two intents.
   */
  insert(key: K, value: Insertable<V>): DeepReadonly<V> | undefined {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const stored = this.toStored(value, { table: name, key: k })
    return host.mutate(this, [name, OP.LT_SET, k, stored]).previous as DeepReadonly<V> | undefined
  }

  /**
   * Stores `value` under `key` only if the key holds nothing; returns whether it did (false: nothing checked,
   * frozen or written).
   */
  insertIfAbsent(key: K, value: Insertable<V>): boolean {
    this.#host.assertWritable(this.name)
    if (this.#map.has(this.toKey(key))) return false
    this.insert(key, value)
    return true
  }

  /**
   * Replaces the value under `key` by `fn(current)` and returns the stored new value. Throws `TABLES_NOT_FOUND`
   * if the key holds nothing; if `fn` throws, or returns a value that cannot be stored, nothing changes.
   *
   * @example
   * ```ts
   * db.metadata.insert('f1', { name: 'notes.md', size: 12, tags: [] })
   * db.metadata.update('f1', (file) => ({ ...file, name: 'renamed.md' })) // -> { name: 'renamed.md', size: 12, tags: [] }
   * ```
   */
  update(key: K, fn: Updater<V>): DeepReadonly<V> {
    this.#host.assertWritable(this.name)
    const k = this.toKey(key)
    const current = this.#map.get(k)
    if (current === undefined) throw notFound(this.name, k)
    this.insert(key, fn(current as DeepReadonly<V>))
    return this.#map.get(k) as DeepReadonly<V>
  }

  /** Removes `key` and returns its value (`undefined`, and nothing written, if it was absent). */
  remove(key: K): DeepReadonly<V> | undefined {
    const host = this.#host
    host.assertWritable(this.name)
    const k = this.toKey(key)
    if (!this.#map.has(k)) return undefined
    return host.mutate(this, [this.name, OP.LT_REMOVE, k]).previous as DeepReadonly<V>
  }

  /** Removes every key (nothing is written if the table is empty). */
  clear(): void {
    this.#host.assertWritable(this.name)
    if (this.#map.size > 0) this.#host.mutate(this, [this.name, OP.LT_CLEAR])
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    const map = this.#map
    switch (op[1]) {
      case OP.LT_SET: {
        const key = op[2] as Key
        const value = op[3]
        if (fromLog) {
          if (op.length !== 4 || !isKey(key) || value === undefined) this.badOp(op, 'expected [key, value]')
          if (this.#host.freeze) deepFreeze(value)
        }
        const previous = map.get(key)
        map.set(key, value)
        out?.push({ op: 'set', key, value, previous } satisfies Change)
        return previous === undefined
      }
      case OP.LT_REMOVE: {
        const key = op[2] as Key
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        const previous = map.get(key)
        if (previous === undefined) return false
        map.delete(key)
        out?.push({ op: 'remove', key, previous } satisfies Change)
        return false
      }
      case OP.LT_CLEAR: {
        if (map.size === 0) return false
        this.#map = new Map()
        out?.push({ op: 'clear', previous: mapView(map) } satisfies Change)
        return false
      }
      default:
        return this.badOp(op, 'unknown opcode for a lookupTable')
    }
  }

  /** @internal */
  [UNDO](change: TableChange): void {
    const c = change as Change
    switch (c.op) {
      case 'set':
        if (c.previous === undefined) this.#map.delete(c.key)
        else this.#map.set(c.key, c.previous)
        return
      case 'remove':
        this.#map.set(c.key, c.previous)
        return
      case 'clear':
        this.#map = mapBehind(c.previous)
        return
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureLookupTable(this.name, this.#map)
  }

  /** @internal */
  [RESET](): void {
    this.#map = new Map()
  }
}
