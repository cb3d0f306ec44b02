// Running the validators a schema declares (Standard Schema v1, the `~standard` interface zod, valibot and arktype
// implement): a table's value schema before an insert, and its key checks before any write. Transactions are
// synchronous, so a validator that answers with a promise is refused.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { TablesInputError, TablesSchemaError } from '../errors.js'
import type { Key } from '../key.js'
import type { KeyCheck } from '../table-options.js'
import type { ValueSite } from './validate.js'

/** True for an object implementing Standard Schema v1 (`~standard` with `version: 1` and a `validate` function). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  const props = (value as { '~standard'?: unknown })['~standard']
  if (typeof props !== 'object' || props === null) return false
  const { version, validate } = props as { version?: unknown; validate?: unknown }
  return version === 1 && typeof validate === 'function'
}

/** Runs `schema` on `value`; the issues if it failed, else its output. Refuses an asynchronous answer. */
function run(
  schema: StandardSchemaV1,
  value: unknown,
  site: ValueSite,
): { readonly value: unknown } | { readonly issues: readonly StandardSchemaV1.Issue[] } {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) {
    result.then(
      () => undefined,
      () => undefined,
    )
    throw new TablesSchemaError(
      'TABLES_ASYNC_SCHEMA',
      `table "${site.table}": its schema (${schema['~standard'].vendor}) validated asynchronously; transactions are synchronous, so only synchronous schemas can be used`,
      { table: site.table, vendor: schema['~standard'].vendor },
    )
  }
  return result.issues === undefined ? { value: result.value } : { issues: result.issues }
}

/**
 * The value to store for `value`: the output of the table's `schema`. Throws `TABLES_SCHEMA_REJECTED` (a
 * TablesInputError carrying the schema's `issues`, the table and key) if the schema rejects it.
 */
export function validateValue(schema: StandardSchemaV1, value: unknown, site: ValueSite): unknown {
  const result = run(schema, value, site)
  if ('value' in result) return result.value
  const context: Record<string, unknown> = { table: site.table, issues: result.issues }
  if (site.key !== undefined) context.key = site.key
  if (site.key2 !== undefined) context.key2 = site.key2
  throw new TablesInputError(
    'TABLES_SCHEMA_REJECTED',
    `table "${site.table}"${where(site)}: the schema (${schema['~standard'].vendor}) rejected the value: ${describeIssues(result.issues)}`,
    context,
  )
}

/**
 * Throws `TABLES_INVALID_KEY` unless `key` passes `check` (`'string'`, `'number'` or a Standard Schema); the
 * message names the table, the key, its type and what the table expects.
 */
export function checkKeyAgainst(check: KeyCheck, key: Key, table: string, what: 'key' | 'key2' | 'member'): void {
  if (check === 'string' || check === 'number') {
    if (typeof key === check) return
    throw new TablesInputError(
      'TABLES_INVALID_KEY',
      `table "${table}": ${what} ${show(key)} is a ${typeof key}, but the table's ${plural(what)} are ${check}s (${what}: '${check}')`,
      { table, [what]: key, keyType: typeof key, expected: check },
    )
  }
  const result = run(check as StandardSchemaV1, key, { table })
  if ('value' in result) return
  throw new TablesInputError(
    'TABLES_INVALID_KEY',
    `table "${table}": ${what} ${show(key)} (a ${typeof key}) was rejected by the table's ${what} schema: ${describeIssues(result.issues)}`,
    { table, [what]: key, keyType: typeof key, issues: result.issues },
  )
}

/** The issues as `path: message; …` (the first five, and how many more). */
function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  const shown = issues.slice(0, 5).map((issue) => {
    const path = issue.path?.map((p) => (typeof p === 'object' ? p.key : p))
    return path === undefined || path.length === 0 ? issue.message : `${formatPath(path)}: ${issue.message}`
  })
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : ''
  return shown.join('; ') + more
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '$'
  for (const seg of path) {
    out +=
      typeof seg === 'number'
        ? `[${seg}]`
        : typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)
          ? `.${seg}`
          : `[${typeof seg === 'symbol' ? seg.toString() : JSON.stringify(seg)}]`
  }
  return out
}

const show = (k: unknown): string => (typeof k === 'string' ? JSON.stringify(k) : String(k))
const plural = (what: string): string => (what === 'key2' ? 'second keys' : `${what}s`)

function where(site: ValueSite): string {
  if (site.key2 !== undefined) return `, key ${show(site.key)}, key2 ${show(site.key2)}`
  return site.key === undefined ? '' : `, key ${show(site.key)}`
}
