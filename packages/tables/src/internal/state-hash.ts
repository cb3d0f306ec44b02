// db.stateHash(): an order-independent digest of every table's content (FORMAT.md, "State hash"). Each entry (a
// value with its table and key, index or member) is encoded with the pinned msgpack options and hashed with xxh64;
// a table's entry hashes are added (mod 2^64), so the order that built the state does not matter; the tables'
// (name, kind, entry count, sum) are then hashed in name order.
import { xxh64 } from '@node-rs/xxhash'
import type { TableKind } from '../table-kind.js'
import { encodeValue } from './codec.js'
import { OP, type Op } from './opcodes.js'

const U64 = (1n << 64n) - 1n

interface TableSum {
  count: number
  sum: bigint
}

/** The entry an operation of the state serialisation stands for, with running list indexes. */
function entryOf(op: Op, index: { table: string; key: unknown; next: number }): unknown[] {
  const name = op[0] as string
  const code = op[1]
  switch (code) {
    case OP.SINGLE_SET:
    case OP.LT_SET:
    case OP.LS_INSERT:
    case OP.LM_SET:
      return [name, ...op.slice(2)]
    case OP.LL_CREATE_KEY:
    case OP.LS_CREATE_KEY:
    case OP.LM_CREATE_KEY:
      return [name, op[2]]
    case OP.LIST_PUSH:
    case OP.LL_PUSH: {
      const key = code === OP.LL_PUSH ? op[2] : undefined
      if (index.table !== name || index.key !== key) {
        index.table = name
        index.key = key
        index.next = 0
      }
      const i = index.next++
      return code === OP.LL_PUSH ? [name, key, i, op[3]] : [name, i, op[2]]
    }
    default:
      throw new TypeError(`state serialisation produced opcode ${String(code)}`)
  }
}

/**
 * The state hash of a db whose tables are `tables` and whose state serialisation (every table's operations that
 * rebuild it, see compactor.ts) is `stateOps`: 16 lowercase hex digits.
 */
export function stateHashOf(tables: ReadonlyMap<string, { readonly kind: TableKind }>, stateOps: Iterable<Op>): string {
  const kinds = new Map<string, TableKind>()
  for (const [name, table] of tables) kinds.set(name, table.kind)
  return digestState(kinds, stateOps)
}

/**
 * The state hash of the tables `kinds` names (each one counted, empty ones included) holding the state `ops`
 * rebuild: the operations of FORMAT.md's state serialisation, grouped by table and, for lists, by key.
 */
export function digestState(kinds: ReadonlyMap<string, TableKind>, ops: Iterable<Op>): string {
  const sums = new Map<string, TableSum>()
  for (const name of kinds.keys()) sums.set(name, { count: 0, sum: 0n })
  const index = { table: '', key: undefined as unknown, next: 0 }
  for (const op of ops) {
    const table = sums.get(op[0] as string)!
    table.count++
    table.sum = (table.sum + xxh64(encodeValue(entryOf(op, index)) as Buffer)) & U64
  }
  const summary = [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, s]) => [name, kinds.get(name)!, s.count, s.sum.toString(16).padStart(16, '0')])
  return xxh64(encodeValue(summary) as Buffer)
    .toString(16)
    .padStart(16, '0')
}
