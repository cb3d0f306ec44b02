// Settling a loaded db with its schema: tables the log holds but the schema does not declare are refused unless
// `dropTables` names them all (then one commit records the drop), and each table's value version is recorded where
// the log records another one, so values are written (and upgraded) under the schema's versions from here on.
import { TablesSchemaError } from '../errors.js'
import { DB_OP, type Op } from './opcodes.js'
import type { Replay } from './replay.js'

/**
 * The db-level operations a writable open must commit after loading (none when the log fits the schema). Throws
 * `TABLES_UNKNOWN_TABLE`, before anything is written, if the log holds tables that neither the schema declares nor
 * `dropTables` names. A read-only db runs the same check and writes nothing.
 */
export function settleOps(replay: Replay, tables: Iterable<string>, dropTables: readonly string[]): Op[] {
  const ops: Op[] = []
  if (replay.unknown.size > 0) {
    const names = [...replay.unknown.keys()]
    const kept = names.filter((name) => !dropTables.includes(name))
    if (kept.length > 0) {
      const listed = kept.map((n) => JSON.stringify(n)).join(', ')
      throw new TablesSchemaError(
        'TABLES_UNKNOWN_TABLE',
        `the log holds data for tables the schema does not declare: ${listed}; the data is kept on disk untouched (add them back to the schema, or pass dropTables: [${listed}] to drop them for good)`,
        { tables: kept, seq: Math.min(...kept.map((n) => replay.unknown.get(n)!)) },
      )
    }
    ops.push(['', DB_OP.DROP_TABLES, names])
  }
  for (const name of tables) {
    const version = replay.versionOf(name)
    if ((replay.recorded.get(name) ?? 1) !== version) ops.push(['', DB_OP.TABLE_VERSION, name, version])
  }
  return ops
}
