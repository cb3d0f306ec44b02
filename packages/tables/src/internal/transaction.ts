// The state of one open transaction: the operations to encode at commit, the change records (which double as the
// undo list), and the promises handed to nested transaction calls, settled when the outer one ends.
import type { TableChange } from '../types.js'
import type { Op } from './opcodes.js'
import { type BaseTable, UNDO } from './table-base.js'

/** A nested `transaction()` call's promise, settled when the outermost transaction commits or rolls back. */
export interface NestedWaiter {
  readonly result: unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

/** One open (outermost) transaction. Nested calls join it. */
export class Transaction {
  /** Operations, in order, as they will be encoded into the commit payload. */
  readonly ops: Op[] = []
  /** Change records, in order; `tables[i]` is the table of `changes[i]`. Undo walks them backwards. */
  readonly changes: TableChange[] = []
  readonly tables: BaseTable[] = []
  /** Set when a nested transaction threw: the whole transaction will roll back and rethrow this error. */
  abort: { readonly error: unknown } | undefined
  readonly nested: NestedWaiter[] = []

  /** Reverts every change, newest first. */
  rollback(): void {
    for (let i = this.changes.length - 1; i >= 0; i--) this.tables[i]![UNDO](this.changes[i]!)
    this.changes.length = 0
    this.tables.length = 0
    this.ops.length = 0
  }
}
