// Operation codes written to the log (see FORMAT.md). The tens digit is the table kind, so every operation records
// the kind of the table it was written for, and a schema that changed a table's kind is detected at replay.
import type { TableKind } from '../table-kind.js'

/** Kind number per table kind: the tens digit of its opcodes. */
export const KIND_CODE: Readonly<Record<TableKind, number>> = {
  single: 1,
  lookupTable: 2,
  list: 3,
  lookupList: 4,
  lookupSet: 5,
  lookupMap: 6,
}

/** Table kind by kind number. */
export const KIND_BY_CODE: ReadonlyMap<number, TableKind> = new Map(
  (Object.entries(KIND_CODE) as [TableKind, number][]).map(([kind, code]) => [code, kind]),
)

/** Opcodes. Arguments follow the opcode in the operation array, in the order given in the comments. */
export const OP = {
  /** single: [value] */
  SINGLE_SET: 10,
  /** single: [] */
  SINGLE_CLEAR: 11,
  /** lookupTable: [key, value] */
  LT_SET: 20,
  /** lookupTable: [key] */
  LT_REMOVE: 21,
  /** lookupTable: [] */
  LT_CLEAR: 22,
  /** list: [value] (appended at the end) */
  LIST_PUSH: 30,
  /** list: [index] (pop is remove of the last index) */
  LIST_REMOVE: 31,
  /** list: [] */
  LIST_CLEAR: 32,
  /** lookupList: [key, value] (creates the key if absent) */
  LL_PUSH: 40,
  /** lookupList: [key, index] */
  LL_REMOVE: 41,
  /** lookupList: [key] (only written when the key was absent) */
  LL_CREATE_KEY: 42,
  /** lookupList: [key] (removes the key and its list) */
  LL_CLEAR_KEY: 43,
  /** lookupList: [] */
  LL_CLEAR: 44,
  /** lookupSet: [key, member] (creates the key if absent) */
  LS_INSERT: 50,
  /** lookupSet: [key, member] */
  LS_REMOVE: 51,
  /** lookupSet: [key] */
  LS_CREATE_KEY: 52,
  /** lookupSet: [key] */
  LS_CLEAR_KEY: 53,
  /** lookupSet: [] */
  LS_CLEAR: 54,
  /** lookupMap: [key, key2, value] (creates the key if absent) */
  LM_SET: 60,
  /** lookupMap: [key, key2] */
  LM_REMOVE: 61,
  /** lookupMap: [key] */
  LM_CREATE_KEY: 62,
  /** lookupMap: [key] */
  LM_CLEAR_KEY: 63,
  /** lookupMap: [] */
  LM_CLEAR: 64,
} as const

/** The name of each opcode's operation, as its change records call it (`set`, `push`, `clearKey` …). */
const OP_NAMES: ReadonlyMap<number, string> = new Map([
  [OP.SINGLE_SET, 'set'],
  [OP.SINGLE_CLEAR, 'clear'],
  [OP.LT_SET, 'set'],
  [OP.LT_REMOVE, 'remove'],
  [OP.LT_CLEAR, 'clear'],
  [OP.LIST_PUSH, 'push'],
  [OP.LIST_REMOVE, 'remove'],
  [OP.LIST_CLEAR, 'clear'],
  [OP.LL_PUSH, 'push'],
  [OP.LL_REMOVE, 'remove'],
  [OP.LL_CREATE_KEY, 'createKey'],
  [OP.LL_CLEAR_KEY, 'clearKey'],
  [OP.LL_CLEAR, 'clear'],
  [OP.LS_INSERT, 'insert'],
  [OP.LS_REMOVE, 'remove'],
  [OP.LS_CREATE_KEY, 'createKey'],
  [OP.LS_CLEAR_KEY, 'clearKey'],
  [OP.LS_CLEAR, 'clear'],
  [OP.LM_SET, 'set'],
  [OP.LM_REMOVE, 'remove'],
  [OP.LM_CREATE_KEY, 'createKey'],
  [OP.LM_CLEAR_KEY, 'clearKey'],
  [OP.LM_CLEAR, 'clear'],
])

/** The operation name of an opcode (`remove`, `push` …), or `undefined` for an unknown opcode. */
export function opName(opcode: unknown): string | undefined {
  return typeof opcode === 'number' ? OP_NAMES.get(opcode) : undefined
}

/** An operation as stored in a commit payload: `[tableName, opcode, ...args]`. */
export type Op = readonly unknown[]

/** The table kind an opcode was written for, or `undefined` for an unknown opcode. */
export function kindOfOpcode(opcode: unknown): TableKind | undefined {
  return typeof opcode === 'number' ? KIND_BY_CODE.get(Math.floor(opcode / 10)) : undefined
}

/**
 * Db-level operations, written with the table name `''` (which no table can have). They record decisions about
 * the schema in the log, so every replay (and every follower) reaches the same state.
 */
export const DB_OP = {
  /** [names]: these tables are dropped: their data written before this point is gone. */
  DROP_TABLES: 1,
  /** [table, version]: values of `table` written after this point have this version. */
  TABLE_VERSION: 2,
} as const

const VALUE_ARG: ReadonlyMap<number, number> = new Map([
  [OP.SINGLE_SET, 2],
  [OP.LT_SET, 3],
  [OP.LIST_PUSH, 2],
  [OP.LL_PUSH, 3],
  [OP.LM_SET, 4],
])

/** Position of the stored value in an operation array (`[table, opcode, ...args]`), for opcodes that carry one. */
export function valueArgIndex(opcode: unknown): number | undefined {
  return typeof opcode === 'number' ? VALUE_ARG.get(opcode) : undefined
}
