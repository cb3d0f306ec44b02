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

const byKey = (a: [unknown, unknown], b: [unknown, unknown]): number => {
  const x = `${typeof a[0]}:${String(a[0])}`
  const y = `${typeof b[0]}:${String(b[0])}`
  return x < y ? -1 : x > y ? 1 : 0
}
const sorted = (values: unknown[]): unknown[] =>
  values
    .map((v) => [v, undefined] as [unknown, unknown])
    .sort(byKey)
    .map(([v]) => v)

/**
 * The whole db as plain data with keyed tables, set members and lookupMap entries sorted by key: the state without
 * iteration order, which a rolled-back removal changes in the writer's memory (see the README, Transactions).
 * Lists keep their order: it is their content.
 */
export function dumpUnordered(db: Database): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, table] of Object.entries(tablesOf(db))) {
    switch (table.kind) {
      case 'single':
        out[name] = table.get()
        break
      case 'list':
        out[name] = [...table.data]
        break
      case 'lookupTable':
        out[name] = [...table.data].sort(byKey)
        break
      case 'lookupList':
        out[name] = [...table.data].map(([k, l]) => [k, [...l]] as [unknown, unknown]).sort(byKey)
        break
      case 'lookupSet':
        out[name] = [...table.data].map(([k, s]) => [k, sorted([...s])] as [unknown, unknown]).sort(byKey)
        break
      case 'lookupMap':
        out[name] = [...table.data].map(([k, m]) => [k, [...m].sort(byKey)] as [unknown, unknown]).sort(byKey)
        break
    }
  }
  return out
}
