// A table holding at most one value (an account, settings …).

import { APPLY, BaseTable, CAPTURE, RESET, type TableHost, UNDO } from '../internal/base-table.js'
import { notFound } from '../internal/not-found.js'
import { OP, type Op } from '../internal/opcodes.js'
import { captureSingle, type TableCapture } from '../internal/state-capture.js'
import { deepFreeze } from '../internal/validate.js'
import type { DeepReadonly, Insertable, Updater } from '../stored-value.js'
import type { SingleChange, TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'

type Change = SingleChange<unknown>

/**
 * A table holding at most one value. Declare it with `single<V>()`.
 *
 * @example
 * ```ts
 * db.account.insert({ name: 'Ada', plan: 'pro' })
 * db.account.get()?.name // -> 'Ada'
 * db.account.clear()
 * ```
 */
export class SingleTable<V> extends BaseTable<'single'> {
  readonly #host: TableHost
  #value: unknown

  /** @internal */
  constructor(host: TableHost, name: string, def: TableDef) {
    super(host, name, 'single', def)
    this.#host = host
  }

  /** The stored value (the object itself, not a copy), or `undefined` if there is none. */
  get(): DeepReadonly<V> | undefined {
    return this.#value as DeepReadonly<V> | undefined
  }

  /**
   * Replaces the value by `fn(current)` and returns the stored new value. Throws `TABLES_NOT_FOUND` if there is no
   * value; if `fn` throws, or returns a value that cannot be stored, nothing changes.
   */
  update(fn: Updater<V>): DeepReadonly<V> {
    this.#host.assertWritable(this.name)
    const current = this.#value
    if (current === undefined) throw notFound(this.name)
    this.insert(fn(current as DeepReadonly<V>))
    return this.#value as DeepReadonly<V>
  }

  /** Stores `value` (replacing any previous one) and returns the previous value. */
  insert(value: Insertable<V>): DeepReadonly<V> | undefined {
    const host = this.#host
    host.assertWritable(this.name)
    const stored = this.toStored(value, { table: this.name })
    return host.mutate(this, [this.name, OP.SINGLE_SET, stored]).previous as DeepReadonly<V> | undefined
  }

  /** Removes the value and returns it (`undefined`, and nothing written, if there was none). */
  clear(): DeepReadonly<V> | undefined {
    this.#host.assertWritable(this.name)
    if (this.#value === undefined) return undefined
    return this.#host.mutate(this, [this.name, OP.SINGLE_CLEAR]).previous as DeepReadonly<V>
  }

  /** @internal */
  [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean {
    switch (op[1]) {
      case OP.SINGLE_SET: {
        const value = op[2]
        if (fromLog) {
          if (op.length !== 3 || value === undefined) this.badOp(op, 'expected [value]')
          if (this.#host.freeze) deepFreeze(value)
        }
        const previous = this.#value
        this.#value = value
        out?.push({ op: 'set', value, previous } satisfies Change)
        return previous === undefined
      }
      case OP.SINGLE_CLEAR: {
        const previous = this.#value
        if (previous === undefined) return false
        this.#value = undefined
        out?.push({ op: 'clear', previous } satisfies Change)
        return false
      }
      default:
        return this.badOp(op, 'unknown opcode for a single table')
    }
  }

  /** @internal */
  [UNDO](change: TableChange): void {
    this.#value = (change as Change).previous
  }

  /** @internal */
  [CAPTURE](): TableCapture {
    return captureSingle(this.name, this.#value)
  }

  /** @internal */
  [RESET](): void {
    this.#value = undefined
  }
}
