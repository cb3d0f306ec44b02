// Dead weight in the log: an operation that replaced or removed data leaves bytes behind that no snapshot would
// hold. A log whose commits since the last snapshot hold none (a bulk load, an append-only history) already is what
// a snapshot of it would be, so the automatic compaction policy leaves it alone (compactor.ts). This file says which
// change records leave dead weight, for live commits (their change records) and replayed ones (a sink that only
// looks, so replay keeps no change record).
import type { TableChange } from '../table-change.js'
import type { ChangeSink } from './base-table.js'

/**
 * Whether a change only added data: a push, a set member or a key created, or a value set where none was. Every
 * other change (a value replaced, anything removed or cleared) leaves the data it replaced behind in the log.
 */
export function onlyAdds(change: TableChange): boolean {
  switch (change.op) {
    case 'push':
    case 'insert':
    case 'createKey':
      return true
    case 'set':
      return change.previous === undefined
    default:
      return false
  }
}

/** Whether any change of `changes` from index `from` on left dead weight. */
export function leavesDeadWeight(changes: readonly TableChange[], from = 0): boolean {
  for (let i = from; i < changes.length; i++) if (!onlyAdds(changes[i]!)) return true
  return false
}

/**
 * A change sink for replay that keeps nothing and notes whether a change left dead weight. Also told of the
 * db-level operations that drop data (`dropped`).
 */
export class DeadWeightSink implements ChangeSink {
  /** True once a change (or a dropped table) since the last {@link reset} left dead weight. */
  found = false

  push(change: TableChange): void {
    if (!this.found && !onlyAdds(change)) this.found = true
  }

  /** A db-level operation dropped tables: their data is dead weight. */
  dropped(): void {
    this.found = true
  }

  reset(): this {
    this.found = false
    return this
  }
}
