// A key → set of members table (children of a folder …), backed by a Map of Sets. Members are keys (string or
// number), so membership survives a reopen (object members would lose their identity).
import type { DbCore } from '../internal/db-core.js'
import { isKey } from '../internal/op-args.js'
import { OP, type Op } from '../internal/opcodes.js'
import { captureLookupSet, type TableCapture } from '../internal/state-capture.js'
import { APPLY, BaseTable, CAPTURE, RESET, UNDO } from '../internal/table-base.js'
import { checkKey } from '../internal/validate.js'
import type { Key, LookupSetChange, TableChange } from '../types.js'

type Change = LookupSetChange<Key, Key>

/**
 * A table mapping keys to sets of members. Declare it with `lookupSet<K, V>()`. `insert` creates the key if needed;
 * removing a key's last member leaves the key with an empty set (`clearKey` removes the key).
 * Iterating yields `[key, set]` pairs in insertion order.
 *
 * @example
 * ```ts
 * db.children.insert('folder', 'file1') // true: added
 * db.children.insert('folder', 'file1') // false: already there, nothing written
 * db.children.has('folder', 'file1') // true
 * ```
 */
export class LookupSet<K extends Key, V extends Key> extends BaseTable<'lookupSet'> {
  #map = new Map<Key, Set<Key>>()

  /** @internal */
  constructor(core: DbCore, name: string) {
    super(core, name, 'lookupSet')
  }

  /** The set under `key` (the Set itself), or `undefined` if the key does not exist. */
  get(key: K): ReadonlySet<V> | undefined {
    return this.#map.get(key) as ReadonlySet<V> | undefined
  }

  /** Whether `value` is a member of the set under `key`. */
  has(key: K, value: V): boolean {
    return this.#map.get(key)?.has(value) ?? false
  }

  /** Whether `key` exists (possibly with an empty set). */
  hasKey(key: K): boolean {
    return this.#map.has(key)
  }

  /** Number of keys. */
  get size(): number {
    return this.#map.size
  }

  /** The underlying map itself (no copy). `clear()` replaces it with a new one. */
  get data(): ReadonlyMap<K, ReadonlySet<V>> {
    return this.#map as unknown as ReadonlyMap<K, ReadonlySet<V>>
  }

  /** `[key, set]` pairs in insertion order. */
  [Symbol.iterator](): MapIterator<[K, ReadonlySet<V>]> {
    return (this.#map as unknown as Map<K, ReadonlySet<V>>)[Symbol.iterator]()
  }

  /** Adds `value` to the set under `key` (creating the key if needed). Returns false if it was already there. */
  insert(key: K, value: V): boolean {
    const core = this.core
    const name = this.name
    core.assertWritable(name)
    const k = checkKey(key, name)
    const v = checkKey(value, name, 'member')
    if (this.#map.get(k)?.has(v)) return false
    core.mutate(this, [name, OP.LS_INSERT, k, v])
    return true
  }

  /** Removes `value` from the set under `key`. Returns false (and writes nothing) if it was not there. */
  remove(key: K, value: V): boolean {
    const core = this.core
    const name = this.name
    core.assertWritable(name)
    const k = checkKey(key, name)
    const v = checkKey(value, name, 'member')
    if (!this.#map.get(k)?.has(v)) return false
    core.mutate(this, [name, OP.LS_REMOVE, k, v])
    return true
  }

  /** Creates `key` with an empty set. Returns false (and writes nothing) if it already exists. */
  createKey(key: K): boolean {
    const core = this.core
    core.assertWritable(this.name)
    const k = checkKey(key, this.name)
    if (this.#map.has(k)) return false
    core.mutate(this, [this.name, OP.LS_CREATE_KEY, k])
    return true
  }

  /** Removes `key` and its set, and returns the set (`undefined`, and nothing written, if it did not exist). */
  clearKey(key: K): ReadonlySet<V> | undefined {
    const core = this.core
    core.assertWritable(this.name)
    const k = checkKey(key, this.name)
    if (!this.#map.has(k)) return undefined
    return core.mutate(this, [this.name, OP.LS_CLEAR_KEY, k]).previous as ReadonlySet<V>
  }

  /** Removes every key (nothing is written if the table is empty). */
  clear(): void {
    this.core.assertWritable(this.name)
    if (this.#map.size > 0) this.core.mutate(this, [this.name, OP.LS_CLEAR])
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): void {
    const map = this.#map
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
        if (set.has(value)) return
        set.add(value)
        out?.push({ op: 'insert', key, value } satisfies Change)
        return
      }
      case OP.LS_REMOVE: {
        const value = op[3] as Key
        if (fromLog && (op.length !== 4 || !isKey(key) || !isKey(value))) this.badOp(op, 'expected [key, member]')
        if (!map.get(key)?.delete(value)) return
        out?.push({ op: 'remove', key, value } satisfies Change)
        return
      }
      case OP.LS_CREATE_KEY: {
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        if (map.has(key)) return
        map.set(key, new Set())
        out?.push({ op: 'createKey', key } satisfies Change)
        return
      }
      case OP.LS_CLEAR_KEY: {
        if (fromLog && (op.length !== 3 || !isKey(key))) this.badOp(op, 'expected [key]')
        const previous = map.get(key)
        if (previous === undefined) return
        map.delete(key)
        out?.push({ op: 'clearKey', key, previous } satisfies Change)
        return
      }
      case OP.LS_CLEAR: {
        if (map.size === 0) return
        this.#map = new Map()
        out?.push({ op: 'clear', previous: map } satisfies Change)
        return
      }
      default:
        this.badOp(op, 'unknown opcode for a lookupSet')
    }
  }

  /** @internal */
  [UNDO](change: TableChange): void {
    const c = change as Change
    switch (c.op) {
      case 'insert':
        this.#map.get(c.key)!.delete(c.value)
        return
      case 'remove':
        this.#map.get(c.key)!.add(c.value)
        return
      case 'createKey':
        this.#map.delete(c.key)
        return
      case 'clearKey':
        this.#map.set(c.key, c.previous as Set<Key>)
        return
      case 'clear':
        this.#map = c.previous as Map<Key, Set<Key>>
        return
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureLookupSet(this.name, this.#map)
  }

  /** @internal */
  [RESET](): void {
    this.#map = new Map()
  }
}
