// A key → ordered list table (an edit history per document …), backed by a Map of arrays.
import { TablesInputError } from '../errors.js'
import { APPLY, CAPTURE, type TableHost, UNDO } from '../internal/base-table.js'
import { isIndex, isKey } from '../internal/key-checks.js'
import { type InnerForms, type KeyedStore, KeyedTable } from '../internal/keyed-table.js'
import { OP, type Op } from '../internal/opcodes.js'
import { isShared, share } from '../internal/read-only-view.js'
import { captureLookupList, type TableCapture } from '../internal/state-capture.js'
import { deepFreeze } from '../internal/validate.js'
import type { Key } from '../key.js'
import type { DeepReadonly, Insertable } from '../stored-value.js'
import type { LookupListChange, TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'

/** The opcodes of the whole-key operations (see keyed-table.ts). */
const KEY_OPS = { createKey: OP.LL_CREATE_KEY, clearKey: OP.LL_CLEAR_KEY, clear: OP.LL_CLEAR }
/** Lists are handed out frozen; a frozen list is copied before its next change (see read-only-view.ts). */
const FORMS: InnerForms<unknown[], unknown> = { empty: () => [], view: share, unview: (list) => list as unknown[] }

type Change = LookupListChange<Key, unknown>

/**
 * A table mapping keys to ordered lists of values. Declare it with `lookupList<K, V>()`. `push` creates the key
 * if needed; removing a key's last value leaves the key with an empty list (`clearKey` removes the key).
 * Iterating yields `[key, list]` pairs in insertion order.
 *
 * @example
 * ```ts
 * db.history.push('doc1', { at: 1, by: 'ada' })
 * db.history.get('doc1')?.length // -> 1
 * db.history.clearKey('doc1')
 * ```
 */
export class LookupList<K extends Key, V> extends KeyedTable<'lookupList', K, unknown[], readonly DeepReadonly<V>[]> {
  readonly #host: TableHost
  readonly #store: KeyedStore<unknown[]>

  /** @internal */
  constructor(host: TableHost, name: string, def: TableDef) {
    const store: KeyedStore<unknown[]> = { map: new Map() }
    super(host, name, 'lookupList', KEY_OPS, FORMS, def, store)
    this.#host = host
    this.#store = store
  }

  /**
   * The list under `key`, or `undefined` if the key does not exist. The list is a frozen array: a snapshot that
   * later writes never change (O(1): the table's array is frozen and handed out; the next write copies it).
   */
  get(key: K): readonly DeepReadonly<V>[] | undefined {
    const list = this.#store.map.get(key)
    return list === undefined ? undefined : (share(list) as readonly DeepReadonly<V>[])
  }

  /** The list under `key`, copied first if it was handed out: every in-place change goes through here. */
  #writable(key: Key): unknown[] | undefined {
    const list = this.#store.map.get(key)
    if (list === undefined || !isShared(list)) return list
    const copy = list.slice()
    this.#store.map.set(key, copy)
    return copy
  }

  /** Whether `key` exists (possibly with an empty list). */
  has(key: K): boolean {
    return this.#store.map.has(key)
  }

  /** Appends `value` to the list under `key` (creating the key if needed) and returns its index. */
  push(key: K, value: Insertable<V>): number {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const stored = this.toStored(value, { table: name, key: k })
    return host.mutate(this, [name, OP.LL_PUSH, k, stored]).index as number
  }

  /**
   * Removes the value at `index` in the list under `key` and returns it. Throws `TABLES_OUT_OF_RANGE` if the key
   * does not exist or `index` is not an integer in `[0, length)`.
   */
  remove(key: K, index: number): DeepReadonly<V> {
    const host = this.#host
    const name = this.name
    host.assertWritable(name)
    const k = this.toKey(key)
    const length = this.#store.map.get(k)?.length
    if (length === undefined || !isIndex(index, length)) {
      throw new TablesInputError(
        'TABLES_OUT_OF_RANGE',
        length === undefined
          ? `table "${name}": key ${JSON.stringify(k)} does not exist`
          : `table "${name}": index ${String(index)} is out of range for key ${JSON.stringify(k)} (length ${length})`,
        { table: name, key: k, index },
      )
    }
    return host.mutate(this, [name, OP.LL_REMOVE, k, index]).previous as DeepReadonly<V>
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    const map = this.#store.map
    const key = op[2] as Key
    switch (op[1]) {
      case OP.LL_PUSH: {
        const value = op[3]
        if (fromLog) {
          if (op.length !== 4 || !isKey(key) || value === undefined) this.badOp(op, 'expected [key, value]')
          if (this.#host.freeze) deepFreeze(value)
        }
        let list = this.#writable(key)
        if (list === undefined) {
          list = []
          map.set(key, list)
          out?.push({ op: 'createKey', key } satisfies Change)
        }
        const index = list.push(value) - 1
        out?.push({ op: 'push', key, index, value } satisfies Change)
        return true
      }
      case OP.LL_REMOVE: {
        const list = this.#writable(key)
        const index = op[3]
        if (fromLog && (op.length !== 4 || list === undefined || !isIndex(index, list.length))) {
          this.badOp(op, `no index ${String(index)} under key ${String(key)}`)
        }
        const l = list!
        const i = index as number
        const previous = i === l.length - 1 ? l.pop() : l.splice(i, 1)[0]
        out?.push({ op: 'remove', key, index: i, previous } satisfies Change)
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
      case 'push':
        this.#writable(c.key)!.pop()
        return
      case 'remove':
        this.#writable(c.key)!.splice(c.index, 0, c.previous)
        return
      default:
        this.undoKeyChange(c)
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureLookupList(this.name, this.#store.map)
  }
}
