// The state of one open transaction: the operations to encode at commit and the change records (which double as
// the undo list). Nested calls join it and add to the same lists.
import type { TableChange } from '../types.js'
import type { Op } from './opcodes.js'
import { type BaseTable, UNDO } from './table-base.js'

/** One open (outermost) transaction. Nested calls join it. */
export class Transaction {
  /** Operations, in order, as they will be encoded into the commit payload. */
  readonly ops: Op[] = []
  /** Change records, in order; `tables[i]` is the table of `changes[i]`. Undo walks them backwards. */
  readonly changes: TableChange[] = []
  readonly tables: BaseTable[] = []
  /** Set when a nested transaction threw: the whole transaction will roll back and rethrow this error. */
  abort: { readonly error: unknown } | undefined

  /** Reverts every change, newest first. */
  rollback(): void {
    for (let i = this.changes.length - 1; i >= 0; i--) this.tables[i]![UNDO](this.changes[i]!)
    this.changes.length = 0
    this.tables.length = 0
    this.ops.length = 0
  }
}
