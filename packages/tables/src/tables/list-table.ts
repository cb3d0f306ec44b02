// An ordered list of values, backed by one array (append, pop, remove at an index).
import { TablesInputError } from '../errors.js'
import { APPLY, BaseTable, CAPTURE, RESET, type TableHost, UNDO } from '../internal/base-table.js'
import { isIndex } from '../internal/key-checks.js'
import { OP, type Op } from '../internal/opcodes.js'
import { isShared, share } from '../internal/read-only-view.js'
import { captureList, type TableCapture } from '../internal/state-capture.js'
import { deepFreeze } from '../internal/validate.js'
import type { DeepReadonly, Insertable } from '../stored-value.js'
import type { ListChange, TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'

type Change = ListChange<unknown>

/**
 * An ordered list of values. Declare it with `list<V>()`. Iterating yields the values in order.
 *
 * @example
 * ```ts
 * const i = db.events.push({ at: Date.now(), what: 'opened' }) // index of the new value
 * db.events.get(i)?.what // -> 'opened'
 * db.events.pop()
 * ```
 */
export class ListTable<V> extends BaseTable<'list'> {
  readonly #host: TableHost
  #items: unknown[] = []

  /** @internal */
  constructor(host: TableHost, name: string, def: TableDef) {
    super(host, name, 'list', def)
    this.#host = host
  }

  /** The value at `index` (the object itself), or `undefined` if out of range. */
  get(index: number): DeepReadonly<V> | undefined {
    return this.#items[index] as DeepReadonly<V> | undefined
  }

  /** Number of values. */
  get length(): number {
    return this.#items.length
  }

  /**
   * The values in order, as a frozen array: a snapshot that later writes never change (O(1): the table's own
   * array is frozen and handed out; the next write copies it first).
   */
  get data(): readonly DeepReadonly<V>[] {
    return share(this.#items) as readonly DeepReadonly<V>[]
  }

  /** The values in order. */
  [Symbol.iterator](): IterableIterator<DeepReadonly<V>> {
    return (this.#items as DeepReadonly<V>[])[Symbol.iterator]()
  }

  /** The table's array, copied first if it was handed out (frozen): every in-place change goes through here. */
  #writable(): unknown[] {
    const items = this.#items
    if (!isShared(items)) return items
    this.#items = items.slice()
    return this.#items
  }

  /** Appends `value` and returns its index. */
  push(value: Insertable<V>): number {
    const host = this.#host
    host.assertWritable(this.name)
    const stored = this.toStored(value, { table: this.name })
    return host.mutate(this, [this.name, OP.LIST_PUSH, stored]).index as number
  }

  /** Removes the last value and returns it. Throws `TABLES_OUT_OF_RANGE` if the list is empty. */
  pop(): DeepReadonly<V> {
    this.#host.assertWritable(this.name)
    const length = this.#items.length
    if (length === 0) {
      throw new TablesInputError('TABLES_OUT_OF_RANGE', `table "${this.name}": pop() on an empty list`, {
        table: this.name,
        index: -1,
      })
    }
    return this.#host.mutate(this, [this.name, OP.LIST_REMOVE, length - 1]).previous as DeepReadonly<V>
  }

  /**
   * Removes the value at `index` (later values move down by one) and returns it.
   * Throws `TABLES_OUT_OF_RANGE` unless `index` is an integer in `[0, length)`.
   */
  remove(index: number): DeepReadonly<V> {
    this.#host.assertWritable(this.name)
    if (!isIndex(index, this.#items.length)) {
      throw new TablesInputError(
        'TABLES_OUT_OF_RANGE',
        `table "${this.name}": index ${String(index)} is out of range (length ${this.#items.length})`,
        { table: this.name, index },
      )
    }
    return this.#host.mutate(this, [this.name, OP.LIST_REMOVE, index]).previous as DeepReadonly<V>
  }

  /** Removes every value (nothing is written if the list is empty). */
  clear(): void {
    this.#host.assertWritable(this.name)
    if (this.#items.length > 0) this.#host.mutate(this, [this.name, OP.LIST_CLEAR])
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    switch (op[1]) {
      case OP.LIST_PUSH: {
        const value = op[2]
        if (fromLog) {
          if (op.length !== 3 || value === undefined) this.badOp(op, 'expected [value]')
          if (this.#host.freeze) deepFreeze(value)
        }
        const index = this.#writable().push(value) - 1
        out?.push({ op: 'push', index, value } satisfies Change)
        return true
      }
      case OP.LIST_REMOVE: {
        const items = this.#writable()
        const index = op[2]
        if (fromLog && (op.length !== 3 || !isIndex(index, items.length))) {
          this.badOp(op, `index ${String(index)} is out of range (length ${items.length})`)
        }
        const i = index as number
        const previous = i === items.length - 1 ? items.pop() : items.splice(i, 1)[0]
        out?.push({ op: 'remove', index: i, previous } satisfies Change)
        return false
      }
      case OP.LIST_CLEAR: {
        const items = this.#items
        if (items.length === 0) return false
        this.#items = []
        out?.push({ op: 'clear', previous: share(items) } satisfies Change)
        return false
      }
      default:
        return this.badOp(op, 'unknown opcode for a list')
    }
  }

  /** @internal */
  [UNDO](change: TableChange): void {
    const c = change as Change
    switch (c.op) {
      case 'push':
        this.#writable().pop()
        return
      case 'remove':
        this.#writable().splice(c.index, 0, c.previous)
        return
      case 'clear':
        this.#items = c.previous as unknown[]
        return
    }
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureList(this.name, this.#items)
  }

  /** @internal */
  [RESET](): void {
    this.#items = []
  }
}
