// Plain snapshots of a db's state, for comparing a db with a model or with itself after a reopen.
import type { AnyTable, Database } from '../../src/index.js'

/** Every table of a db, by name. */
export function tablesOf(db: Database): Record<string, AnyTable> {
  return Object.fromEntries(Object.entries(db)) as Record<string, AnyTable>
}

/** One table's state as plain arrays, in the table's own order. */
export function dumpTable(table: AnyTable): unknown {
  switch (table.kind) {
    case 'single':
      return table.get()
    case 'lookupTable':
      return [...table.data]
    case 'list':
      return [...table.data]
    case 'lookupList':
      return [...table.data].map(([k, l]) => [k, [...l]])
    case 'lookupSet':
      return [...table.data].map(([k, s]) => [k, [...s]])
    case 'lookupMap':
      return [...table.data].map(([k, m]) => [k, [...m]])
  }
}

/** The whole db as plain data, keyed tables in their iteration order. */
export function dump(db: Database): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, table] of Object.entries(tablesOf(db))) out[name] = dumpTable(table)
  return out
}
