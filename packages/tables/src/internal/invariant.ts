// Checked invariants of the tables engine: after each step that the engine relies on (a capture step of a
// compaction, a move of the db's seq, a transaction's change of state) the piece that made it states what must hold
// now. A failed check is a bug in @homedb/tables, reported as a typed error that carries the values instead of a
// wrong state later (the log's invariant(), in packages/log/src/internal, in this package's manners).
import { TablesInternalError } from '../errors.js'

/**
 * Throws {@link TablesInternalError} naming `name` and carrying `values()` unless `ok`. `values` is a function so
 * that its object is only built for a failure.
 */
export function invariant(ok: boolean, name: string, values: () => Record<string, unknown>): asserts ok {
  if (!ok) violated(name, values())
}

/**
 * Throws {@link TablesInternalError} for invariant `name` with `values`. Hot paths check with a plain `if` and call
 * this, so that a passing check allocates nothing, not even the closure `invariant` takes.
 */
export function violated(name: string, values: Record<string, unknown>): never {
  throw new TablesInternalError(`invariant ${name} failed: ${JSON.stringify(values, jsonSafe)}`, {
    invariant: name,
    ...values,
  })
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
