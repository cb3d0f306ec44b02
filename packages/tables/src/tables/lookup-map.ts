// A key → (key2 → value) table (shares of a document per user …), backed by a Map of Maps.

import { APPLY, CAPTURE, type TableHost, UNDO } from '../internal/base-table.js'
import { isKey } from '../internal/key-checks.js'
import { type InnerForms, type KeyedStore, KeyedTable } from '../internal/keyed-table.js'
import { notFound } from '../internal/not-found.js'
import { OP, type Op } from '../internal/opcodes.js'
import { mapBehind, mapView } from '../internal/read-only-view.js'
import { captureLookupMap, type TableCapture } from '../internal/state-capture.js'
import { deepFreeze } from '../internal/validate.js'
import type { Key } from '../key.js'
import type { DeepReadonly, Insertable, Updater } from '../stored-value.js'
import type { LookupMapChange, TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'

/** The opcodes of the whole-key operations (see keyed-table.ts). */
const KEY_OPS = { createKey: OP.LM_CREATE_KEY, clearKey: OP.LM_CLEAR_KEY, clear: OP.LM_CLEAR }
/** Inner maps are handed out as live read-only views (see read-only-view.ts). */
const FORMS: InnerForms<Map<Key, unknown>, unknown> = {
  empty: () => new Map(),
  view: (inner) => mapView(inner),
  unview: (view) => mapBehind(view as ReadonlyMap<Key, unknown>),
}

type Change = LookupMapChange<Key, Key, unknown>

/**
 * A table mapping keys to maps from second keys to values. Declare it with `lookupMap<K, K2, V>()`. `insert`
 * creates the key if needed; removing a key's last entry leaves the key with an empty map (`clearKey` removes
 * the key). Iterating yields `[key, map]` pairs in insertion order.
 *
 * @example
 * ```ts
 * db.shares.insert('doc1', 'bob', { mode: 'read' })
 * db.shares.get('doc1', 'bob')?.mode // -> 'read'
 * db.shares.get('doc1')?.size // -> 1
 * ```
 */
export class LookupMap<K extends Key, K2 extends Key, V> extends KeyedTable<
  'lookupMap',
  K,
  Map<Key, unknown>,
  ReadonlyMap<K2, DeepReadonly<V>>
> {
  readonly #host: TableHost
  readonly #store: KeyedStore<Map<Key, unknown>>

  /** @internal */
  constructor(host: TableHost, name: string, def: TableDef) {
    const store: KeyedStore<Map<Key, unknown>> = { map: new Map() }
    super(host, name, 'lookupMap', KEY_OPS, FORMS, def, store)
    this.#host = host
    this.#store = store
  }

  /**
   * The map under `key` as a live read-only view (it follows later writes; not a `Map` instance: it has the read
   * members only), or `undefined` if the key does not exist.
   */
  get(key: K): ReadonlyMap<K2, DeepReadonly<V>> | undefined
  /** The value under `key` and `key2` (the object itself), or `undefined`. */
  get(key: K, key2: K2): DeepReadonly<V> | undefined
  get(key: K, key2?: K2): ReadonlyMap<K2, DeepReadonly<V>> | DeepReadonly<V> | undefined {
    const inner = this.#store.map.get(key)
    if (key2 === undefined)
      return inner === undefined ? undefined : (mapView(inner) as ReadonlyMap<K2, DeepReadonly<V>>)
    return inner?.get(key2) as DeepReadonly<V> | undefined
  }

  /** With one argument, whether `key` exists (possibly with an empty map); with two, whether `key2` is under it. */
  has(key: K, key2?: K2): boolean {
    if (key2 === undefined) return this.#store.map.has(key)
    return this.#store.map.get(key)?.has(key2) ?? false
  }

  /**
   * Stores `value` under `key` and `key2` (creating the key if needed), **replacing** any value already there, and
   * returns the value it replaced.
   */
  insert(key: K, key2: K2, value: Insertable<V>): DeepReadonly<V> | undefined {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const k2 = this.toKey(key2, 'key2')
    const stored = this.toStored(value, { table: name, key: k, key2: k2 })
    return host.mutate(this, [name, OP.LM_SET, k, k2, stored]).previous as DeepReadonly<V> | undefined
  }

  /**
   * Stores `value` under `key` and `key2` only if nothing is there; returns whether it did (false: nothing checked,
   * frozen or written).
   */
  insertIfAbsent(key: K, key2: K2, value: Insertable<V>): boolean {
    this.#host.assertWritable(this.name)
    if (this.#store.map.get(this.toKey(key))?.has(this.toKey(key2, 'key2'))) return false
    this.insert(key, key2, value)
    return true
  }

  /**
   * Replaces the value under `key` and `key2` by `fn(current)` and returns the stored new value. Throws
   * `TABLES_NOT_FOUND` if nothing is there; if `fn` throws, or returns a value that cannot be stored, nothing
   * changes.
   */
  update(key: K, key2: K2, fn: Updater<V>): DeepReadonly<V> {
    this.#host.assertWritable(this.name)
    const k = this.toKey(key)
    const k2 = this.toKey(key2, 'key2')
    const current = this.#store.map.get(k)?.get(k2)
    if (current === undefined) throw notFound(this.name, k, k2)
    this.insert(key, key2, fn(current as DeepReadonly<V>))
    return this.#store.map.get(k)!.get(k2) as DeepReadonly<V>
  }

  /** Removes the value under `key` and `key2` and returns it (`undefined`, and nothing written, if absent). */
  remove(key: K, key2: K2): DeepReadonly<V> | undefined {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const k2 = this.toKey(key2, 'key2')
    if (!this.#store.map.get(k)?.has(k2)) return undefined
    return host.mutate(this, [name, OP.LM_REMOVE, k, k2]).previous as DeepReadonly<V>
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    const map = this.#store.map
    const key = op[2] as Key
    switch (op[1]) {
      case OP.LM_SET: {
        const key2 = op[3] as Key
        const value = op[4]
        if (fromLog) {
          if (op.length !== 5 || !isKey(key) || !isKey(key2) || value === undefined) {
            this.badOp(op, 'expected [key, key2, value]')
          }
          if (this.#host.freeze) deepFreeze(value)
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
        return previous === undefined
      }
      case OP.LM_REMOVE: {
        const key2 = op[3] as Key
        if (fromLog && (op.length !== 4 || !isKey(key) || !isKey(key2))) this.badOp(op, 'expected [key, key2]')
        const inner = map.get(key)
        const previous = inner?.get(key2)
        if (previous === undefined) return false
        inner!.delete(key2)
        out?.push({ op: 'remove', key, key2, previous } satisfies Change)
        return false
      }
      default:
        return this.applyKeyOp(op, out, fromLog)
    }
  }

  /** @internal */
  [UNDO](change: TableChange): void {
    const c = change as Change
    switch (c.op) {
      case 'set': {
        const inner = this.#store.map.get(c.key)!
        if (c.previous === undefined) inner.delete(c.key2)
        else inner.set(c.key2, c.previous)
        return
      }
      case 'remove':
        this.#store.map.get(c.key)!.set(c.key2, c.previous)
        return
      default:
        this.undoKeyChange(c)
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureLookupMap(this.name, this.#store.map)
  }
}
