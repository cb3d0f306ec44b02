// decodeCommitOps(payload): one commit's operations as data, without the app's schema (FORMAT.md, "Reading a log
// without its schema"). The format names each table and each operation, so a home server's operator page can show
// what every recent commit changed — table, operation, key, value — knowing nothing of the app.
import { TablesReplayError } from './errors.js'
import { decodePayload } from './internal/codec.js'
import { DB_OP, kindOfOpcode, opName } from './internal/opcodes.js'
import type { Key } from './key.js'
import type { TableKind } from './table-kind.js'

/**
 * One operation of a commit. `table` is the table it wrote (`''` for a db-level operation, `kind: 'db'`); `op` its
 * name as the change records call it (`set`, `remove`, `push`, `insert`, `createKey`, `clearKey`, `clear`; for
 * db-level operations `dropTables` and `tableVersion`). The other fields are present when the operation has them:
 * `key` (keyed kinds), `key2` (lookupMap), `member` (lookupSet), `index` (list and lookupList removes), `value`
 * (the value written, exactly as stored; for `dropTables` the names, for `tableVersion` the version, whose table is
 * in `table`).
 */
export interface CommitOp {
  readonly table: string
  readonly kind: TableKind | 'db'
  readonly op: string
  readonly key?: Key
  readonly key2?: Key
  readonly member?: Key
  readonly index?: number
  readonly value?: unknown
}

type Field = 'key' | 'key2' | 'member' | 'index' | 'value'

/** The arguments of each opcode after `[table, opcode]`, by name (FORMAT.md, "Opcodes"). */
const FIELDS: ReadonlyMap<number, readonly Field[]> = new Map<number, readonly Field[]>([
  [10, ['value']],
  [11, []],
  [20, ['key', 'value']],
  [21, ['key']],
  [22, []],
  [30, ['value']],
  [31, ['index']],
  [32, []],
  [40, ['key', 'value']],
  [41, ['key', 'index']],
  [42, ['key']],
  [43, ['key']],
  [44, []],
  [50, ['key', 'member']],
  [51, ['key', 'member']],
  [52, ['key']],
  [53, ['key']],
  [54, []],
  [60, ['key', 'key2', 'value']],
  [61, ['key', 'key2']],
  [62, ['key']],
  [63, ['key']],
  [64, []],
])

/**
 * The operations of one commit payload (`Commit.payload` of a `@homedb/log` log written by @homedb/tables), in
 * the order they were applied. Throws `TABLES_CORRUPT_OP` (`TablesReplayError`) when the payload is not the tables
 * format: it does not decode, is not an array of `[table, opcode, …]`, or an operation has an unknown opcode or
 * the wrong number of arguments.
 *
 * @example
 * ```ts
 * import { openLog } from '@homedb/log'
 *
 * const log = await openLog('./data/core', { readOnly: true }) // a db's log, as a home server holds it
 * for await (const commit of log.read({ from: Math.max(log.start.seq, log.head.seq - 10) })) {
 *   console.log(commit.seq, decodeCommitOps(commit.payload)) // [{ table: 'files', kind: 'lookupTable', op: 'set', key: 'a', value: … }]
 * }
 * await log.close()
 * ```
 */
export function decodeCommitOps(payload: Uint8Array): CommitOp[] {
  let ops: unknown
  try {
    ops = decodePayload(payload)
  } catch (cause) {
    throw new TablesReplayError('the payload does not decode', {}, { cause })
  }
  if (!Array.isArray(ops)) throw new TablesReplayError('the payload is not an array of operations', {})
  return ops.map((op, i) => describeOp(op, i))
}

function describeOp(op: unknown, i: number): CommitOp {
  if (!Array.isArray(op) || typeof op[0] !== 'string' || typeof op[1] !== 'number') {
    throw new TablesReplayError(`operation ${i} is not [table, opcode, …]`, { index: i })
  }
  if (op[0] === '') return describeDbOp(op, i)
  const fields = FIELDS.get(op[1])
  const kind = kindOfOpcode(op[1])
  if (fields === undefined || kind === undefined || op.length !== fields.length + 2) {
    throw new TablesReplayError(`operation ${i} has an unknown opcode or the wrong arguments`, {
      index: i,
      table: op[0],
    })
  }
  const out: Record<string, unknown> = { table: op[0], kind, op: opName(op[1]) }
  fields.forEach((field, j) => {
    out[field] = op[j + 2]
  })
  return out as unknown as CommitOp
}

function describeDbOp(op: readonly unknown[], i: number): CommitOp {
  if (op[1] === DB_OP.DROP_TABLES && op.length === 3 && Array.isArray(op[2])) {
    return { table: '', kind: 'db', op: 'dropTables', value: op[2] }
  }
  if (op[1] === DB_OP.TABLE_VERSION && op.length === 4 && typeof op[2] === 'string') {
    return { table: op[2], kind: 'db', op: 'tableVersion', value: op[3] }
  }
  throw new TablesReplayError(`operation ${i} is a db-level operation this version does not know`, { index: i })
}
