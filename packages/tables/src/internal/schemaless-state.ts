// The tables of a log without the app's schema: every operation of FORMAT.md applied by its opcode alone (the tens
// digit names the table kind), values kept exactly as stored. A home server holds logs but no schema; this is how it
// computes a state hash of a user's log (a move verifies both copies with it) without ever knowing the app.
import { TablesReplayError } from '../errors.js'
import type { Key } from '../key.js'
import type { TableKind } from '../table-kind.js'
import { isIndex, isKey } from './key-checks.js'
import { DB_OP, KIND_BY_CODE, OP, type Op } from './opcodes.js'

/** One table as the schema-less replay keeps it. */
export interface SchemalessTable {
  readonly kind: TableKind
  /** single: the value; lookupTable: Map key → value; list: array; keyed kinds: Map key → array | Set | Map. */
  data: unknown
}

function emptyData(kind: TableKind): unknown {
  if (kind === 'single') return undefined
  if (kind === 'list') return []
  return new Map()
}

/** The state of every table a log names, built by applying its operations in order. */
export class SchemalessState {
  private readonly tables = new Map<string, SchemalessTable>()

  /** Declares a table (a snapshot header lists every table with its kind, empty ones included). */
  declare(name: string, kind: TableKind, seq: number): SchemalessTable {
    const table = this.tables.get(name)
    if (table === undefined) {
      const created = { kind, data: emptyData(kind) }
      this.tables.set(name, created)
      return created
    }
    if (table.kind !== kind) {
      throw new TablesReplayError(`seq ${seq}: table "${name}" is a ${table.kind}, an operation says ${kind}`, {
        seq,
        table: name,
      })
    }
    return table
  }

  /** Applies one decoded operation `[table, opcode, ...args]` of the commit (or snapshot) at `seq`. */
  apply(op: unknown, seq: number): void {
    if (!Array.isArray(op) || typeof op[0] !== 'string' || typeof op[1] !== 'number') {
      throw new TablesReplayError(`seq ${seq}: an operation is not [table, opcode, …]`, { seq })
    }
    if (op[0] === '') {
      this.applyDbOp(op, seq)
      return
    }
    const kind = KIND_BY_CODE.get(Math.floor(op[1] / 10))
    if (kind === undefined) throw new TablesReplayError(`seq ${seq}: unknown opcode ${op[1]}`, { seq })
    const table = this.declare(op[0], kind, seq)
    if (!applyToTable(table, op)) {
      throw new TablesReplayError(`seq ${seq}: malformed operation ${op[1]} on table "${op[0]}"`, {
        seq,
        table: op[0],
      })
    }
  }

  private applyDbOp(op: readonly unknown[], seq: number): void {
    if (op[1] === DB_OP.DROP_TABLES && Array.isArray(op[2])) {
      for (const name of op[2]) this.tables.delete(String(name))
      return
    }
    // A table version changes how the app upgrades values; stored values stay as they are here.
    if (op[1] === DB_OP.TABLE_VERSION) return
    throw new TablesReplayError(`seq ${seq}: a db-level operation this version does not know`, { seq })
  }

  /** Every table by name, in the order the log first named them (read only: the state owns them). */
  tableMap(): ReadonlyMap<string, Readonly<SchemalessTable>> {
    return this.tables
  }

  /** Every table's kind, by name. */
  kinds(): Map<string, TableKind> {
    const out = new Map<string, TableKind>()
    for (const [name, table] of this.tables) out.set(name, table.kind)
    return out
  }

  /** Operations rebuilding the state from empty (FORMAT.md, "State serialisation"), table by table. */
  *stateOps(): Generator<Op> {
    for (const [name, table] of this.tables) yield* tableOps(name, table)
  }
}

function* tableOps(name: string, table: SchemalessTable): Generator<Op> {
  const { kind, data } = table
  if (kind === 'single') {
    if (data !== undefined) yield [name, OP.SINGLE_SET, data]
    return
  }
  if (kind === 'list') {
    for (const value of data as unknown[]) yield [name, OP.LIST_PUSH, value]
    return
  }
  for (const [key, inner] of data as Map<Key, unknown>) {
    if (kind === 'lookupTable') yield [name, OP.LT_SET, key, inner]
    else if (kind === 'lookupList') yield* keyedOps(name, key, inner as unknown[], OP.LL_CREATE_KEY, OP.LL_PUSH)
    else if (kind === 'lookupSet') yield* keyedOps(name, key, [...(inner as Set<Key>)], OP.LS_CREATE_KEY, OP.LS_INSERT)
    else {
      const entries = [...(inner as Map<Key, unknown>)]
      if (entries.length === 0) yield [name, OP.LM_CREATE_KEY, key]
      for (const [key2, value] of entries) yield [name, OP.LM_SET, key, key2, value]
    }
  }
}

function* keyedOps(name: string, key: Key, items: unknown[], create: number, add: number): Generator<Op> {
  if (items.length === 0) yield [name, create, key]
  for (const item of items) yield [name, add, key, item]
}

/** Applies `op` to `table`; false if its arguments are malformed. */
function applyToTable(table: SchemalessTable, op: readonly unknown[]): boolean {
  switch (table.kind) {
    case 'single':
      return applySingle(table, op)
    case 'lookupTable':
      return applyLookupTable(table.data as Map<Key, unknown>, op, table)
    case 'list':
      return applyList(table, op)
    default:
      return applyKeyed(table, op)
  }
}

function applySingle(table: SchemalessTable, op: readonly unknown[]): boolean {
  if (op[1] === OP.SINGLE_SET && op.length === 3 && op[2] !== undefined) table.data = op[2]
  else if (op[1] === OP.SINGLE_CLEAR && op.length === 2) table.data = undefined
  else return false
  return true
}

function applyLookupTable(map: Map<Key, unknown>, op: readonly unknown[], table: SchemalessTable): boolean {
  if (op[1] === OP.LT_SET && op.length === 4 && isKey(op[2]) && op[3] !== undefined) map.set(op[2], op[3])
  else if (op[1] === OP.LT_REMOVE && op.length === 3 && isKey(op[2])) map.delete(op[2])
  else if (op[1] === OP.LT_CLEAR && op.length === 2) table.data = new Map()
  else return false
  return true
}

function applyList(table: SchemalessTable, op: readonly unknown[]): boolean {
  const items = table.data as unknown[]
  if (op[1] === OP.LIST_PUSH && op.length === 3 && op[2] !== undefined) items.push(op[2])
  else if (op[1] === OP.LIST_REMOVE && op.length === 3 && isIndex(op[2], items.length)) items.splice(op[2], 1)
  else if (op[1] === OP.LIST_CLEAR && op.length === 2) table.data = []
  else return false
  return true
}

/** lookupList (4x), lookupSet (5x), lookupMap (6x): opcode `base + n` per FORMAT.md's table. */
function applyKeyed(table: SchemalessTable, op: readonly unknown[]): boolean {
  const map = table.data as Map<Key, unknown>
  const base = Math.floor((op[1] as number) / 10) * 10
  const code = (op[1] as number) - base
  const key = op[2]
  // In every keyed kind: base+2 createKey, base+3 clearKey, base+4 clear (FORMAT.md, "Opcodes").
  if (code === 4 && op.length === 2) {
    table.data = new Map()
    return true
  }
  if (!isKey(key)) return false
  if (code === 2 && op.length === 3) {
    if (!map.has(key)) map.set(key, base === 40 ? [] : base === 50 ? new Set() : new Map())
    return true
  }
  if (code === 3 && op.length === 3) {
    map.delete(key)
    return true
  }
  if (base === 40) return applyLookupList(map, key, code, op)
  if (base === 50) return applyLookupSet(map, key, code, op)
  return applyLookupMap(map, key, code, op)
}

function applyLookupList(map: Map<Key, unknown>, key: Key, code: number, op: readonly unknown[]): boolean {
  if (code === 0 && op.length === 4 && op[3] !== undefined) {
    const list = (map.get(key) as unknown[] | undefined) ?? []
    list.push(op[3])
    map.set(key, list)
    return true
  }
  const list = map.get(key) as unknown[] | undefined
  if (code !== 1 || op.length !== 4 || list === undefined || !isIndex(op[3], list.length)) return false
  list.splice(op[3], 1)
  return true
}

function applyLookupSet(map: Map<Key, unknown>, key: Key, code: number, op: readonly unknown[]): boolean {
  if (op.length !== 4 || !isKey(op[3])) return false
  if (code === 0) {
    const set = (map.get(key) as Set<Key> | undefined) ?? new Set<Key>()
    set.add(op[3])
    map.set(key, set)
    return true
  }
  if (code !== 1) return false
  ;(map.get(key) as Set<Key> | undefined)?.delete(op[3])
  return true
}

function applyLookupMap(map: Map<Key, unknown>, key: Key, code: number, op: readonly unknown[]): boolean {
  if (code === 0 && op.length === 5 && isKey(op[3]) && op[4] !== undefined) {
    const inner = (map.get(key) as Map<Key, unknown> | undefined) ?? new Map<Key, unknown>()
    inner.set(op[3], op[4])
    map.set(key, inner)
    return true
  }
  if (code !== 1 || op.length !== 4 || !isKey(op[3])) return false
  ;(map.get(key) as Map<Key, unknown> | undefined)?.delete(op[3])
  return true
}
