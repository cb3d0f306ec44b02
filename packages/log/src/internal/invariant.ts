// Checked invariants: after each change of the log's positions (flush, roll, follow, release, …) the piece that
// made it states what must now hold. A failed check is a bug in @homedb/log, reported as a typed error that carries
// the values, instead of a wrong answer later (TigerBeetle's assertions, in a library's manners).
import { LogInternalError } from '../errors.js'

/**
 * Throws {@link LogInternalError} naming `name` and carrying `values()` unless `ok`. `values` is a function so that
 * its object is only built for a failure.
 */
export function invariant(ok: boolean, name: string, values: () => Record<string, unknown>): asserts ok {
  if (!ok) violated(name, values())
}

/**
 * Throws {@link LogInternalError} for invariant `name` with `values`. Hot paths check with a plain `if` and call
 * this, so that a passing check allocates nothing, not even the closure `invariant` takes.
 */
export function violated(name: string, values: Record<string, unknown>): never {
  throw new LogInternalError(`invariant ${name} failed: ${JSON.stringify(values, jsonSafe)}`, {
    invariant: name,
    ...values,
  })
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString(16) : value
}
