// readLogState(log): a log's tables as data, without the app's schema (FORMAT.md, "Reading a log without its
// schema"). A home server holds users' logs but never their apps' schemas; its operator page shows a user's tables
// from this: every table's name, kind and size, and its entries a page at a time, values exactly as stored.
import type { Log } from '@homedb/log'
import { TablesConfigError } from './errors.js'
import { replaySchemaless } from './internal/schemaless-replay.js'
import type { SchemalessTable } from './internal/schemaless-state.js'
import type { Key } from './key.js'
import type { TableKind } from './table-kind.js'

/** Options of {@link readLogState}. */
export interface LogStateOptions {
  /** The seq whose state is read (default: the log's head). Must not be past the head. */
  readonly upTo?: number
}

/** Which entries of a table {@link LogStateTable.entries} returns. */
export interface LogStateRange {
  /** Entries to skip. Default 0. */
  readonly offset?: number
  /** Most entries returned. Default: all the rest. */
  readonly limit?: number
}

/**
 * One entry of a table, as stored:
 *
 * | kind          | `key`                | `value`                                        |
 * | ------------- | -------------------- | ---------------------------------------------- |
 * | `single`      | absent               | the value                                      |
 * | `lookupTable` | the key              | the value                                      |
 * | `list`        | the index (a number) | the value                                      |
 * | `lookupList`  | the key              | the key's values (a readonly array)            |
 * | `lookupSet`   | the key              | the key's members (a `ReadonlySet`)            |
 * | `lookupMap`   | the key              | the key's entries (a `ReadonlyMap` key2 → value) |
 *
 * Values are what the log holds (no `upgrade` applied). They belong to the state that returned them: read them,
 * do not change them.
 */
export interface LogStateEntry {
  readonly key?: Key
  readonly value: unknown
}

/** One table of a {@link LogState}. */
export interface LogStateTable {
  readonly name: string
  readonly kind: TableKind
  /** Entries: 0 or 1 (`single`), items (`list`), keys (every other kind). */
  readonly size: number
  /** The entries from `offset`, at most `limit`, in the table's order (a list's index order, insertion order of keys). */
  entries(range?: LogStateRange): LogStateEntry[]
}

/** The tables of a log at (`seq`, `chain`). */
export interface LogState {
  readonly seq: number
  /** The log's chain after commit `seq`. */
  readonly chain: string
  /** Every table the log names at `seq` (its snapshot header's and every table an operation wrote), by name. */
  readonly tables: readonly LogStateTable[]
}

/**
 * The tables of `log` at `upTo` (default its head), read from the log alone: the latest snapshot at or before
 * `upTo` (or the log from seq 0), then every commit up to `upTo`, each operation applied by its opcode, exactly
 * as `logStateHash` replays it. The whole state is built in memory (as large as the tables the app holds); the
 * entries are read a page at a time. Throws `TABLES_LOG_ERROR` with `context.logCode` `LOG_NEED_SNAPSHOT` when the
 * log no longer holds what `upTo` needs, `TABLES_CORRUPT_OP` when a payload is not the tables format,
 * `TABLES_CONFIG` for `upTo` past the head.
 *
 * @example
 * ```ts
 * import { openLog } from '@homedb/log'
 *
 * const log = await openLog('./data/core', { readOnly: true }) // a db's log, as a home server holds it
 * const state = await readLogState(log)
 * for (const table of state.tables) console.log(table.name, table.kind, table.size, table.entries({ limit: 10 }))
 * await log.close()
 * ```
 */
export async function readLogState(log: Log, options: LogStateOptions = {}): Promise<LogState> {
  const { state, seq, chain } = await replaySchemaless(log, options.upTo ?? log.head.seq)
  const tables = [...state.tableMap()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, table]) => tableView(name, table))
  return { seq, chain, tables }
}

function tableView(name: string, table: Readonly<SchemalessTable>): LogStateTable {
  const { kind } = table
  return {
    name,
    kind,
    get size() {
      return sizeOf(table)
    },
    entries(range = {}) {
      const { offset, limit } = checkRange(range)
      return [...pageOf(table, offset, limit)]
    },
  }
}

function sizeOf(table: Readonly<SchemalessTable>): number {
  if (table.kind === 'single') return table.data === undefined ? 0 : 1
  if (table.kind === 'list') return (table.data as readonly unknown[]).length
  return (table.data as ReadonlyMap<Key, unknown>).size
}

function checkRange(range: LogStateRange): { offset: number; limit: number } {
  const offset = range.offset ?? 0
  const limit = range.limit ?? Number.MAX_SAFE_INTEGER
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 0) {
    throw new TablesConfigError('offset and limit must be integers ≥ 0', { offset: range.offset, limit: range.limit })
  }
  return { offset, limit }
}

/** The entries `[offset, offset + limit)` of a table, without copying the rest. */
function* pageOf(table: Readonly<SchemalessTable>, offset: number, limit: number): Generator<LogStateEntry> {
  if (limit === 0) return
  if (table.kind === 'single') {
    if (offset === 0 && table.data !== undefined) yield { value: table.data }
    return
  }
  if (table.kind === 'list') {
    const items = table.data as readonly unknown[]
    const end = Math.min(items.length, offset + limit)
    for (let i = offset; i < end; i++) yield { key: i, value: items[i] }
    return
  }
  let i = 0
  for (const [key, value] of table.data as ReadonlyMap<Key, unknown>) {
    if (i >= offset + limit) return
    if (i++ >= offset) yield { key, value }
  }
}
