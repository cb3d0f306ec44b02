// A key → (key2 → value) table (shares of a document per user …), backed by a Map of Maps.
import type { DbCore } from '../internal/db-core.js'
import { isKey } from '../internal/op-args.js'
import { OP, type Op } from '../internal/opcodes.js'
import { captureLookupMap, type TableCapture } from '../internal/state-capture.js'
import { APPLY, BaseTable, CAPTURE, RESET, UNDO } from '../internal/table-base.js'
import { acceptValue, checkKey, deepFreeze } from '../internal/validate.js'
import type { DeepReadonly, Insertable, Key, LookupMapChange, TableChange } from '../types.js'

type Change = LookupMapChange<Key, Key, unknown>

/**
 * A table mapping keys to maps from second keys to values. Declare it with `lookupMap<K, K2, V>()`. `insert`
 * creates the key if needed; removing a key's last entry leaves the key with an empty map (`clearKey` removes
 * the key). Iterating yields `[key, map]` pairs in insertion order.
 *
 * @example
 * ```ts
 * db.shares.insert('doc1', 'bob', { mode: 'read' })
 * db.shares.get('doc1', 'bob')?.mode // 'read'
 * db.shares.get('doc1')?.size // 1
 * ```
 */
export class LookupMap<K extends Key, K2 extends Key, V> extends BaseTable<'lookupMap'> {
  #map = new Map<Key, Map<Key, unknown>>()

  /** @internal */
  constructor(core: DbCore, name: string) {
    super(core, name, 'lookupMap')
  }

  /** The map under `key` (the Map itself), or `undefined` if the key does not exist. */
  get(key: K): ReadonlyMap<K2, DeepReadonly<V>> | undefined
  /** The value under `key` and `key2` (the object itself), or `undefined`. */
  get(key: K, key2: K2): DeepReadonly<V> | undefined
  get(key: K, key2?: K2): ReadonlyMap<K2, DeepReadonly<V>> | DeepReadonly<V> | undefined {
    const inner = this.#map.get(key)
    if (key2 === undefined) return inner as ReadonlyMap<K2, DeepReadonly<V>> | undefined
    return inner?.get(key2) as DeepReadonly<V> | undefined
  }

  /** With one argument, whether `key` exists (possibly with an empty map); with two, whether `key2` is under it. */
  has(key: K, key2?: K2): boolean {
    if (key2 === undefined) return this.#map.has(key)
    return this.#map.get(key)?.has(key2) ?? false
  }

  /** Number of keys. */
  get size(): number {
    return this.#map.size
  }

  /** The underlying map itself (no copy). `clear()` replaces it with a new one. */
  get data(): ReadonlyMap<K, ReadonlyMap<K2, DeepReadonly<V>>> {
    return this.#map as unknown as ReadonlyMap<K, ReadonlyMap<K2, DeepReadonly<V>>>
  }

  /** `[key, map]` pairs in insertion order. */
  [Symbol.iterator](): MapIterator<[K, ReadonlyMap<K2, DeepReadonly<V>>]> {
    return (this.#map as unknown as Map<K, ReadonlyMap<K2, DeepReadonly<V>>>)[Symbol.iterator]()
  }

  /** Stores `value` under `key` and `key2` (creating the key if needed) and returns the value it replaced. */
  insert(key: K, key2: K2, value: Insertable<V>): DeepReadonly<V> | undefined {
    const core = this.core
    const name = this.name
    core.assertWritable(name)
    const k = checkKey(key, name)
    const k2 = checkKey(key2, name, 'key2')
    acceptValue(value, core.freeze, { table: name, key: k, key2: k2 })
    return core.mutate(this, [name, OP.LM_SET, k, k2, value]).previous as DeepReadonly<V> | undefined
  }

  /** Removes the value under `key` and `key2` and returns it (`undefined`, and nothing written, if absent). */
  remove(key: K, key2: K2): DeepReadonly<V> | undefined {
    const core = this.core
    const name = this.name
    core.assertWritable(name)
    const k = checkKey(key, name)
    const k2 = checkKey(key2, name, 'key2')
    if (!this.#map.get(k)?.has(k2)) return undefined
    return core.mutate(this, [name, OP.LM_REMOVE, k, k2]).previous as DeepReadonly<V>
  }

  /** Creates `key` with an empty map. Returns false (and writes nothing) if it already exists. */
  createKey(key: K): boolean {
    const core = this.core
    core.assertWritable(this.name)
    const k = checkKey(key, this.name)
    if (this.#map.has(k)) return false
    core.mutate(this, [this.name, OP.LM_CREATE_KEY, k])
    return true
  }

  /** Removes `key` and its map, and returns the map (`undefined`, and nothing written, if it did not exist). */
  clearKey(key: K): ReadonlyMap<K2, DeepReadonly<V>> | undefined {
    const core = this.core
    core.assertWritable(this.name)
    const k = checkKey(key, this.name)
    if (!this.#map.has(k)) return undefined
    return core.mutate(this, [this.name, OP.LM_CLEAR_KEY, k]).previous as ReadonlyMap<K2, DeepReadonly<V>>
  }

  /** Removes every key (nothing is written if the table is empty). */
  clear(): void {
    this.core.assertWritable(this.name)
    if (this.#map.size > 0) this.core.mutate(this, [this.name, OP.LM_CLEAR])
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): void {
    const map = this.#map
    const key = op[2] as Key
    switch (op[1]) {
      case OP.LM_SET: {
        const key2 = op[3] as Key
        const value = op[4]
        if (fromLog) {
          if (op.length !== 5 || !isKey(key) || !isKey(key2) || value === undefined) {
            this.badOp(op, 'expected [key, key2, value]')
          }
          if (this.core.freeze) deepFreeze(value)
        }
        let inner = map.get(key)
        if (inner === undefined) {
          inner = new Map()
          map.set(key, inner)
          out?.push({ op: 'createKey', key } satisfies Change)
        }
        const previous = inner.get(key2)
        inner.set(key2, value)
        out?.push({ op: 'set', key, key2, value, previous } satisfies Change)
        return
      }
      case OP.LM_REMOVE: {
        const key2 = op[3] as Key
        if (fromLog && (op.length !== 4 || !isKey(key) || !isKey(key2))) this.badOp(op, 'expected [key, key2]')
        const inner = map.get(key)
        const previous = inner?.get(key2)
        if (previous === undefined) return
        inner!.delete(key2)
        out?.push({ op: 'remove', key, key2, previous } satisfies Change)
        return
      }
      case OP.LM_CREATE_KEY: {
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        if (map.has(key)) return
        map.set(key, new Map())
        out?.push({ op: 'createKey', key } satisfies Change)
        return
      }
      case OP.LM_CLEAR_KEY: {
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        const previous = map.get(key)
        if (previous === undefined) return
        map.delete(key)
        out?.push({ op: 'clearKey', key, previous } satisfies Change)
        return
      }
      case OP.LM_CLEAR: {
        if (map.size === 0) return
        this.#map = new Map()
        out?.push({ op: 'clear', previous: map } satisfies Change)
        return
      }
      default:
        this.badOp(op, 'unknown opcode for a lookupMap')
    }
  }

  /** @internal */
  [UNDO](change: TableChange): void {
    const c = change as Change
    switch (c.op) {
      case 'set': {
        const inner = this.#map.get(c.key)!
        if (c.previous === undefined) inner.delete(c.key2)
        else inner.set(c.key2, c.previous)
        return
      }
      case 'remove':
        this.#map.get(c.key)!.set(c.key2, c.previous)
        return
      case 'createKey':
        this.#map.delete(c.key)
        return
      case 'clearKey':
        this.#map.set(c.key, c.previous as Map<Key, unknown>)
        return
      case 'clear':
        this.#map = c.previous as Map<Key, Map<Key, unknown>>
        return
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureLookupMap(this.name, this.#map)
  }

  /** @internal */
  [RESET](): void {
    this.#map = new Map()
  }
}
