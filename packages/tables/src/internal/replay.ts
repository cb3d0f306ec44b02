// Replay: turning what a log holds back into the tables' state. At open (and when a follower reloads) the latest
// snapshot is loaded, then every commit after it; each commit's payload is decoded into operations and applied to
// its table through the same [APPLY] hook live writes use, with the shape checks of values read from the log.
// Db-level operations (dropped tables, value versions) are applied here; values written under an older version are
// upgraded as they are loaded; tables the schema does not declare are noted, not applied (settle.ts decides).
import type { CommitSource, SnapshotSource } from '../commit-source.js'
import { TablesError, TablesReplayError, TablesSchemaError } from '../errors.js'
import type { TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'
import type { AppliedSeq } from './applied-seq.js'
import { APPLY, type BaseTable, RESET } from './base-table.js'
import { decodePayload } from './codec.js'
import { fromLogError } from './log-errors.js'
import { DB_OP, kindOfOpcode, type Op, opName, valueArgIndex } from './opcodes.js'
import { decodeSnapshot, type SnapshotHeader } from './snapshot-codec.js'
import { acceptValue } from './validate.js'

/** Change records collected per table while applying (what a follower emits). */
export type ChangesOut = Record<string, TableChange[]>

/** Told what a load read (the auto-compaction policy counts it). */
export interface ReplayAccounting {
  /** The snapshot loaded holds `bytes` of payload. */
  snapshotLoaded(bytes: number): void
  /**
   * A commit of `bytes` of payload after the snapshot was replayed; `deadWeight`: one of its operations replaced,
   * removed or cleared data, dropped a table, or changed nothing (see APPLY in base-table.ts).
   */
  replayed(bytes: number, deadWeight: boolean): void
}

/**
 * The replay state of one db: what the log records about its tables besides their content, and the application of
 * snapshots, commits and operations to the tables.
 */
export class Replay {
  /** Value version each table's data in memory was written with, as recorded in the log (default 1). */
  readonly recorded = new Map<string, number>()
  /** Tables found in the log that the schema does not declare, with the first seq that mentions each. */
  readonly unknown = new Map<string, number>()
  readonly #tables: ReadonlyMap<string, BaseTable>
  readonly #defs: { readonly [name: string]: TableDef }
  readonly #freeze: boolean
  #upgraded = 0
  #droppedKnown = false

  constructor(tables: ReadonlyMap<string, BaseTable>, defs: { readonly [name: string]: TableDef }, freeze: boolean) {
    this.#tables = tables
    this.#defs = defs
    this.#freeze = freeze
  }

  /** Values upgraded while loading (see `upgrade` in the schema). */
  get upgraded(): number {
    return this.#upgraded
  }

  /** True if a drop-tables operation emptied a table the schema declares since the last call (then cleared). */
  takeDroppedKnown(): boolean {
    const dropped = this.#droppedKnown
    this.#droppedKnown = false
    return dropped
  }

  /** The version a table's values are written with now: its schema `version`, default 1. */
  versionOf(name: string): number {
    return this.#defs[name]?.version ?? 1
  }

  /**
   * Loads the source's latest snapshot (if any), then every commit after it, into the empty tables, moving `seq`
   * along. Tables the schema does not declare are collected in `unknown`; values written with an older version are
   * upgraded. Throws a TablesError on any problem. Nothing is ever written here.
   */
  async load(source: CommitSource, seq: AppliedSeq, accounting: ReplayAccounting): Promise<void> {
    try {
      let from = 0
      const snapshot = await source.latestSnapshot()
      if (snapshot !== undefined) {
        await this.applySnapshot(snapshot, false)
        from = snapshot.seq
        accounting.snapshotLoaded(snapshot.bytes)
      }
      checkCoverage(source, snapshot, from)
      seq.replaced(from)
      if (source.readBatches !== undefined) {
        // One await per batch of commits (a window of the log), not per commit: a long log of small commits.
        for await (const batch of source.readBatches({ from })) {
          for (let i = 0; i < batch.length; i++) this.#loadCommit(batch[i]!, seq, accounting)
        }
      } else {
        for await (const commit of source.read({ from })) this.#loadCommit(commit, seq, accounting)
      }
    } catch (error) {
      throw error instanceof TablesError ? error : fromLogError(error)
    }
  }

  /** Applies the next commit of a load, which must follow the seq the tables are at. */
  #loadCommit(
    commit: { readonly seq: number; readonly payload: Uint8Array },
    seq: AppliedSeq,
    accounting: ReplayAccounting,
  ): void {
    if (commit.seq !== seq.value + 1) throw gapError(commit.seq, seq.value)
    const onlyAdded = this.applyCommit(commit.payload, commit.seq, undefined)
    accounting.replayed(commit.payload.byteLength, !onlyAdded)
    seq.advance(commit.seq)
  }

  /**
   * Loads a snapshot into the tables. `replace`: the tables hold state already (a follower reloading): every chunk
   * is decoded first and the tables are emptied and filled in one synchronous step, so readers never see a
   * half-loaded state. The caller moves the db's seq to the snapshot's.
   */
  async applySnapshot(snapshot: SnapshotSource, replace: boolean): Promise<void> {
    const batches: unknown[][] = []
    let header: SnapshotHeader | undefined
    for await (const item of decodeSnapshot(snapshot.chunks(), snapshot.seq)) {
      if ('header' in item) {
        header = item.header
        this.#checkSnapshotVersions(header, snapshot.seq)
        if (!replace) this.#recordSnapshotVersions(header)
      } else if (replace) batches.push(item.ops)
      else this.applyOps(item.ops, snapshot.seq, undefined)
    }
    if (!replace) return
    for (const table of this.#tables.values()) table[RESET]()
    this.recorded.clear()
    this.unknown.clear()
    this.#recordSnapshotVersions(header!)
    for (const ops of batches) this.applyOps(ops, snapshot.seq, undefined)
  }

  /**
   * Applies one commit payload read from a log. With `out`, change records are collected per table. Returns
   * whether every operation only added data (see APPLY in base-table.ts).
   */
  applyCommit(payload: Uint8Array, seq: number, out: ChangesOut | undefined): boolean {
    let ops: unknown
    try {
      ops = decodePayload(payload)
    } catch (error) {
      throw new TablesReplayError(
        `commit ${seq} does not decode: ${(error as Error).message}`,
        { seq },
        { cause: error },
      )
    }
    if (!Array.isArray(ops)) throw new TablesReplayError(`commit ${seq} is not an array of operations`, { seq })
    return this.applyOps(ops, seq, out)
  }

  /**
   * Applies decoded operations (of a commit or a snapshot chunk). Returns whether every one only added data;
   * operations on undeclared tables (not applied) and value versions count as adding, a drop of tables does not.
   */
  applyOps(ops: readonly unknown[], seq: number, out: ChangesOut | undefined): boolean {
    let onlyAdded = true
    for (let i = 0; i < ops.length; i++) {
      const op: unknown = ops[i]
      if (!Array.isArray(op) || typeof op[0] !== 'string') {
        throw new TablesReplayError(`commit ${seq}, operation ${i} is not [table, opcode, ...]`, { seq })
      }
      const name = op[0]
      if (name === '') {
        if (!this.#applyDbOp(op, seq)) onlyAdded = false
        continue
      }
      const table = this.#tables.get(name)
      if (table === undefined) {
        if (!this.unknown.has(name)) this.unknown.set(name, seq)
        continue
      }
      if (!this.#applyTableOp(table, op as Op, seq, i, out)) onlyAdded = false
    }
    return onlyAdded
  }

  /**
   * Applies one operation to its table, upgrading its value first if it was written under an older version.
   * Returns whether it only added data.
   */
  #applyTableOp(table: BaseTable, op: Op, seq: number, index: number, out: ChangesOut | undefined): boolean {
    const name = table.name
    const kind = kindOfOpcode(op[1])
    if (kind !== table.kind) throw this.#kindError(table, op, seq, kind)
    const recorded = this.recorded.get(name) ?? 1
    if (recorded !== this.versionOf(name)) op = this.#upgradeOp(name, op, recorded, seq)
    let changes: TableChange[] | undefined
    if (out !== undefined) changes = out[name] ??= []
    try {
      return table[APPLY](op, changes, true)
    } catch (error) {
      const where = { seq, table: name, op: opName(op[1]), opIndex: index }
      if (error instanceof TablesError) {
        throw new TablesReplayError(`commit ${seq}: ${error.message}`, { ...error.context, ...where }, { cause: error })
      }
      throw new TablesReplayError(
        `commit ${seq}: operation on table "${name}" failed: ${(error as Error).message}`,
        where,
        { cause: error },
      )
    }
  }

  /** The refusal of an operation whose opcode is unknown or of another table kind than the schema's. */
  #kindError(table: BaseTable, op: Op, seq: number, kind: string | undefined): TablesError {
    const name = table.name
    if (kind === undefined) {
      return new TablesReplayError(`commit ${seq}: unknown opcode ${String(op[1])} for table "${name}"`, {
        seq,
        table: name,
      })
    }
    return new TablesSchemaError(
      'TABLES_KIND_MISMATCH',
      `table "${name}" is a ${kind} in the log but a ${table.kind} in the schema; the data is kept on disk untouched`,
      { table: name, seq, logKind: kind, schemaKind: table.kind },
    )
  }

  /**
   * Db-level operations: dropped tables and value versions (see FORMAT.md). Returns false for a drop (its tables'
   * data is now dead weight in the log).
   */
  #applyDbOp(op: readonly unknown[], seq: number): boolean {
    switch (op[1]) {
      case DB_OP.DROP_TABLES: {
        const names = op[2]
        if (op.length !== 3 || !Array.isArray(names) || !names.every((n) => typeof n === 'string' && n !== '')) {
          throw new TablesReplayError(`commit ${seq}: malformed drop-tables operation`, { seq })
        }
        for (const name of names as string[]) this.#dropTable(name)
        return false
      }
      case DB_OP.TABLE_VERSION: {
        const [, , name, version] = op
        if (op.length !== 4 || typeof name !== 'string' || !Number.isSafeInteger(version) || (version as number) < 1) {
          throw new TablesReplayError(`commit ${seq}: malformed table-version operation`, { seq })
        }
        if (this.#tables.has(name) && (version as number) > this.versionOf(name)) {
          throw this.#versionAhead(name, version as number, seq)
        }
        this.recorded.set(name, version as number)
        return true
      }
      default:
        throw new TablesReplayError(`commit ${seq} holds a db-level operation this version does not know`, { seq })
    }
  }

  /** A drop-tables operation names `name`: its data (known or not) is gone from here on. */
  #dropTable(name: string): void {
    this.unknown.delete(name)
    this.recorded.delete(name)
    const table = this.#tables.get(name)
    if (table === undefined) return
    table[RESET]()
    this.#droppedKnown = true
  }

  /** Replaces the value carried by `op` (written with version `from`) by the table's `upgrade` of it. */
  #upgradeOp(name: string, op: Op, from: number, seq: number): Op {
    const index = valueArgIndex(op[1])
    if (index === undefined) return op
    const def = this.#defs[name]!
    const key = op.length > 3 ? op[2] : undefined
    let value: unknown
    try {
      value = def.upgrade!(op[index], from)
      acceptValue(value, this.#freeze, key === undefined ? { table: name } : { table: name, key })
    } catch (error) {
      throw new TablesSchemaError(
        'TABLES_UPGRADE_FAILED',
        `table "${name}": upgrading a value from version ${from} to ${this.versionOf(name)} failed at commit ${seq}: ${(error as Error)?.message ?? error}; the data is kept on disk untouched`,
        { table: name, seq, key, fromVersion: from, cause: error },
      )
    }
    this.#upgraded++
    const copy = op.slice()
    copy[index] = value
    return copy
  }

  /** Refuses a snapshot whose header records a newer value version than the schema, as a version commit is refused. */
  #checkSnapshotVersions(header: SnapshotHeader, seq: number): void {
    for (const [name, t] of Object.entries(header.tables)) {
      if (this.#tables.has(name) && t.version > this.versionOf(name)) throw this.#versionAhead(name, t.version, seq)
    }
  }

  /** The refusal of values written with a newer version than the schema declares (a log or a snapshot). */
  #versionAhead(name: string, version: number, seq: number): TablesSchemaError {
    return new TablesSchemaError(
      'TABLES_VERSION_AHEAD',
      `table "${name}" holds values of version ${version} but the schema declares version ${this.versionOf(name)}: open it with the newer schema; the data is kept on disk untouched`,
      { table: name, seq, logVersion: version, schemaVersion: this.versionOf(name) },
    )
  }

  /** Values in a snapshot have the version its header records for their table. */
  #recordSnapshotVersions(header: SnapshotHeader): void {
    for (const [name, t] of Object.entries(header.tables)) this.recorded.set(name, t.version)
  }
}

/**
 * Refuses a source that cannot rebuild a state: commits released with no snapshot covering them, or a snapshot
 * ahead of the commits the source holds. Both mean files are missing (`context.incomplete`), damage a restore from
 * another copy heals (bootstrap.ts), unlike a commit that does not apply.
 */
function checkCoverage(source: CommitSource, snapshot: SnapshotSource | undefined, from: number): void {
  const start = source.start.seq
  if (start > from) {
    throw new TablesReplayError(`the log starts after seq ${start} and no snapshot covers the commits before it`, {
      seq: start,
      incomplete: true,
    })
  }
  if (snapshot === undefined || !('head' in source)) return
  const head = (source as { head: { seq: number } }).head.seq
  if (head < from) {
    throw new TablesReplayError(
      `the snapshot at seq ${from} is ahead of the log, which ends at seq ${head}: commits the snapshot covers were lost from the log`,
      { seq: head, incomplete: true },
    )
  }
}

/** A source that skipped a commit (`what`: the commits read at open, or followed). */
export function gapError(seq: number, after: number, what = 'commits'): TablesReplayError {
  return new TablesReplayError(`a gap in the ${what}: got seq ${seq} after ${after}`, { seq })
}
