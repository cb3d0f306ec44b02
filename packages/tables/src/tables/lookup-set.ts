// A key → set of members table (children of a folder …), backed by a Map of Sets. Members are keys (string or
// number), so membership survives a reopen (object members would lose their identity).

import { APPLY, CAPTURE, type TableHost, UNDO } from '../internal/base-table.js'
import { isKey } from '../internal/key-checks.js'
import { type InnerForms, type KeyedStore, KeyedTable } from '../internal/keyed-table.js'
import { OP, type Op } from '../internal/opcodes.js'
import { setBehind, setView } from '../internal/read-only-view.js'
import { captureLookupSet, type TableCapture } from '../internal/state-capture.js'
import type { Key } from '../key.js'
import type { LookupSetChange, TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'

/** The opcodes of the whole-key operations (see keyed-table.ts). */
const KEY_OPS = { createKey: OP.LS_CREATE_KEY, clearKey: OP.LS_CLEAR_KEY, clear: OP.LS_CLEAR }
/** Sets are handed out as live read-only views (see read-only-view.ts). */
const FORMS: InnerForms<Set<Key>, unknown> = {
  empty: () => new Set(),
  view: setView,
  unview: (view) => setBehind(view as ReadonlySet<Key>),
}

type Change = LookupSetChange<Key, Key>

/**
 * A table mapping keys to sets of members. Declare it with `lookupSet<K, V>()`. `insert` creates the key if needed;
 * removing a key's last member leaves the key with an empty set (`clearKey` removes the key).
 * Iterating yields `[key, set]` pairs in insertion order.
 *
 * @example
 * ```ts
 * db.children.insert('folder', 'file1') // -> true
 * // Already there: nothing is written.
 * db.children.insert('folder', 'file1') // -> false
 * db.children.has('folder', 'file1') // -> true
 * ```
 */
export class LookupSet<K extends Key, V extends Key> extends KeyedTable<'lookupSet', K, Set<Key>, ReadonlySet<V>> {
  readonly #host: TableHost
  readonly #store: KeyedStore<Set<Key>>

  /** @internal */
  constructor(host: TableHost, name: string, def: TableDef) {
    const store: KeyedStore<Set<Key>> = { map: new Map() }
    super(host, name, 'lookupSet', KEY_OPS, FORMS, def, store)
    this.#host = host
    this.#store = store
  }

  /**
   * The set under `key` as a live read-only view (it follows later writes; not a `Set` instance: it has the read
   * members only), or `undefined` if the key does not exist.
   */
  get(key: K): ReadonlySet<V> | undefined {
    const set = this.#store.map.get(key)
    return set === undefined ? undefined : (setView(set) as ReadonlySet<V>)
  }

  /** Whether `value` is a member of the set under `key`. */
  has(key: K, value: V): boolean {
    return this.#store.map.get(key)?.has(value) ?? false
  }

  /** Whether `key` exists (possibly with an empty set). */
  hasKey(key: K): boolean {
    return this.#store.map.has(key)
  }

  /** Adds `value` to the set under `key` (creating the key if needed). Returns false if it was already there. */
  insert(key: K, value: V): boolean {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const v = this.toKey(value, 'member')
    if (this.#store.map.get(k)?.has(v)) return false
    host.mutate(this, [name, OP.LS_INSERT, k, v])
    return true
  }

  /** Removes `value` from the set under `key`. Returns false (and writes nothing) if it was not there. */
  remove(key: K, value: V): boolean {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const v = this.toKey(value, 'member')
    if (!this.#store.map.get(k)?.has(v)) return false
    host.mutate(this, [name, OP.LS_REMOVE, k, v])
    return true
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    const map = this.#store.map
    const key = op[2] as Key
    switch (op[1]) {
      case OP.LS_INSERT: {
        const value = op[3] as Key
        if (fromLog && (op.length !== 4 || !isKey(key) || !isKey(value))) this.badOp(op, 'expected [key, member]')
        let set = map.get(key)
        if (set === undefined) {
          set = new Set()
          map.set(key, set)
          out?.push({ op: 'createKey', key } satisfies Change)
        }
        if (set.has(value)) return false
        set.add(value)
        out?.push({ op: 'insert', key, value } satisfies Change)
        return true
      }
      case OP.LS_REMOVE: {
        const value = op[3] as Key
        if (fromLog && (op.length !== 4 || !isKey(key) || !isKey(value))) this.badOp(op, 'expected [key, member]')
        if (!map.get(key)?.delete(value)) return false
        out?.push({ op: 'remove', key, value } satisfies Change)
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
      case 'insert':
        this.#store.map.get(c.key)!.delete(c.value)
        return
      case 'remove':
        this.#store.map.get(c.key)!.add(c.value)
        return
      default:
        this.undoKeyChange(c)
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureLookupSet(this.name, this.#store.map)
  }
}
