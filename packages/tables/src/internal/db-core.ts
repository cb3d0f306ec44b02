// The engine behind a db handle: owns the log and the tables, runs mutations and transactions (apply in memory,
// encode, append one frame, or roll back), emits commit events, and replays the log at open.
import type { Log, SnapshotInfo } from '@homedb/log'
import { Database } from '../database.js'
import {
  TablesConfigError,
  TablesError,
  TablesInputError,
  TablesLogError,
  TablesReplayError,
  TablesSchemaError,
  TablesStateError,
  TablesTransactionError,
} from '../errors.js'
import type { TableDef, VersionedDef } from '../schema.js'
import { ListTable } from '../tables/list-table.js'
import { LookupList } from '../tables/lookup-list.js'
import { LookupMap } from '../tables/lookup-map.js'
import { LookupSet } from '../tables/lookup-set.js'
import { LookupTable } from '../tables/lookup-table.js'
import { SingleTable } from '../tables/single-table.js'
import type { TableChange, TableKind } from '../types.js'
import { decodePayload, encodePayload } from './codec.js'
import { CommitEvents, type CommitListener, type RawCommitEvent, removal } from './commit-events.js'
import { DB_OP, kindOfOpcode, type Op, opName, valueArgIndex } from './opcodes.js'
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT, type SnapshotHeader } from './snapshot-codec.js'
import type { TableCapture } from './state-capture.js'
import { APPLY, type BaseTable, CAPTURE, RESET, UNDO } from './table-base.js'
import { Transaction } from './transaction.js'
import { acceptValue } from './validate.js'

export type { RawCommitEvent }

/** A change record seen loosely, for the mutation methods that read its `previous` or `index`. */
export type LooseChange = { readonly op: string; readonly previous?: unknown; readonly index?: number }

/** Settings of a core, resolved from the `openDb` options. */
export interface CoreSettings {
  readonly freeze: boolean
  readonly onListenerError: (error: unknown) => void
  /** Receives errors of background work (auto-compaction, following a writer). */
  readonly onError: (error: unknown) => void
  /** Mutations refused (followers); defaults to the log's own `readOnly`. */
  readonly readOnly?: boolean
  /** Compact when the log since the last snapshot exceeds `ratio` × max(snapshot, `minBytes`); false: never. */
  readonly autoCompact: false | { readonly ratio: number; readonly minBytes: number }
}

/** What {@link DbCore.compact} reports. */
export interface CompactInfo {
  /** Seq the snapshot holds the state of. */
  readonly seq: number
  /** Payload bytes of the snapshot. */
  readonly bytes: number
  /** Operations written (one per value, plus one per empty key). */
  readonly ops: number
  /** Wall time, in ms. */
  readonly ms: number
}

/** Operations per snapshot chunk: small enough that encoding one is a short event-loop block. */
const OPS_PER_CHUNK = 1024

const noop = (): void => {}

const cores = new WeakMap<object, DbCore>()

/** The core behind a db handle (for this package's internals and tests; followers and compaction build on it). */
export function coreOf(db: object): DbCore {
  const core = cores.get(db)
  if (core === undefined) throw new TypeError('not a db opened by @homedb/tables')
  return core
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Turns an error from `@homedb/log` into a TablesError with the log error as `cause`. */
export function fromLogError(error: unknown, context: Record<string, unknown> = {}): TablesError {
  if (error instanceof TablesError) return error
  const logCode = (error as { code?: unknown } | null)?.code
  const message = (error as Error | null)?.message ?? String(error)
  const ctx = typeof logCode === 'string' ? { ...context, logCode } : context
  switch (logCode) {
    case 'LOG_FAILED':
      return new TablesLogError('TABLES_LOG_FAILED', `the log failed; reopen the db: ${message}`, ctx, error)
    case 'LOG_FRAME_TOO_LARGE':
      return new TablesInputError('TABLES_TOO_LARGE', `the commit is too large for one log frame: ${message}`, ctx, {
        cause: error,
      })
    case 'LOG_CONFIG':
      return new TablesConfigError(`invalid log option: ${message}`, ctx, { cause: error })
    case 'LOG_CLOSED':
      return new TablesStateError('TABLES_CLOSED', 'the db is closed', ctx)
    case 'LOG_READ_ONLY':
      return new TablesStateError('TABLES_READ_ONLY', 'the db was opened read-only', ctx)
    default:
      return new TablesLogError('TABLES_LOG_ERROR', `log error: ${message}`, ctx, error)
  }
}

/** The engine of one open db. */
export class DbCore {
  /** The public object users hold (`db`). */
  readonly handle: Database
  readonly log: Log
  readonly freeze: boolean
  readonly readOnly: boolean
  /** Tables by name, in schema order. */
  readonly tables = new Map<string, BaseTable>()
  /** Seq of the last commit applied in memory. */
  seq = 0
  /** The open transaction, if a `transaction()` call is running. */
  txn: Transaction | undefined
  closing: Promise<void> | undefined
  /** The onCommit / onDurable listeners and their delivery. */
  readonly events: CommitEvents
  private closeListeners: readonly (() => void)[] = []
  private readonly onListenerError: (error: unknown) => void
  readonly onError: (error: unknown) => void
  readonly defs: { readonly [name: string]: TableDef }
  /** Captures of every table while a compaction writes its snapshot. */
  private capture: Map<string, TableCapture> | undefined
  private compacting: Promise<CompactInfo> | undefined
  private readonly autoCompact: CoreSettings['autoCompact']
  /** Payload bytes in the log after the latest snapshot, and that snapshot's size (the auto-compaction policy). */
  bytesSinceSnapshot = 0
  snapshotBytes = 0
  /** Value version each table's data in memory was written with, as recorded in the log (default 1). */
  readonly recorded = new Map<string, number>()
  /** Tables found in the log that the schema does not declare, with the first seq that mentions each. */
  readonly unknown = new Map<string, number>()
  /** Values upgraded while loading (see `upgrade` in the schema). */
  upgraded = 0
  /** Called after each snapshot this db wrote (replication ships it; see log-view.ts). */
  readonly snapshotListeners = new Set<(info: SnapshotInfo) => void>()

  constructor(defs: { readonly [name: string]: TableDef }, log: Log, settings: CoreSettings) {
    this.log = log
    this.defs = defs
    this.freeze = settings.freeze
    this.onListenerError = settings.onListenerError
    this.events = new CommitEvents(log, settings.onListenerError)
    this.onError = settings.onError
    this.autoCompact = settings.autoCompact
    this.readOnly = settings.readOnly ?? log.readOnly
    this.handle = new Database(this)
    cores.set(this.handle, this)
    for (const [name, def] of Object.entries(defs)) {
      const table = this.createTable(name, def)
      this.tables.set(name, table)
      Object.defineProperty(this.handle, name, { value: table, enumerable: true })
    }
  }

  private createTable(name: string, def: TableDef): BaseTable {
    switch (def.kind) {
      case 'single':
        return new SingleTable(this, name)
      case 'lookupTable':
        return new LookupTable(this, name)
      case 'list':
        return new ListTable(this, name)
      case 'lookupList':
        return new LookupList(this, name)
      case 'lookupSet':
        return new LookupSet(this, name)
      case 'lookupMap':
        return new LookupMap(this, name)
    }
  }

  // ------------------------------------------------------------------ mutations

  /** Throws unless a mutation may run now. Called before anything is validated or changed. */
  assertWritable(table: string): void {
    if (this.closing !== undefined) throw new TablesStateError('TABLES_CLOSED', 'the db is closed', { table })
    if (this.readOnly) throw new TablesStateError('TABLES_READ_ONLY', 'the db was opened read-only', { table })
    const failure = this.log.failure
    if (failure !== undefined) throw fromLogError(failure, { table })
    const abort = this.txn?.abort
    if (abort !== undefined) throw abortedError(abort.error)
  }

  /**
   * Applies a validated operation to `table` and records it: inside a transaction it joins it, outside it is
   * committed at once (one frame). Returns the last change record it produced (the caller's return value).
   */
  mutate(table: BaseTable, op: Op): LooseChange {
    const txn = this.txn
    if (txn !== undefined) {
      const changes = txn.changes
      const from = changes.length
      if (this.capture !== undefined) this.capture.get(table.name)?.willApply(op, txn)
      table[APPLY](op, changes, false)
      for (let i = from; i < changes.length; i++) txn.tables.push(table)
      txn.ops.push(op)
      return changes[changes.length - 1]!
    }
    const out: TableChange[] = []
    const capture = this.capture?.get(table.name)
    const solo = {}
    capture?.willApply(op, solo)
    table[APPLY](op, out, false)
    let seq: number
    try {
      seq = this.append([op], table.name)
    } catch (error) {
      for (let i = out.length - 1; i >= 0; i--) table[UNDO](out[i]!)
      capture?.rolledBack(solo)
      throw error
    }
    this.seq = seq
    if (this.events.listening) this.events.commit({ seq, changes: { [table.name]: out } })
    return out[out.length - 1]!
  }

  /** Encodes and appends one commit; throws a TablesError (nothing appended) if either fails. */
  private append(ops: readonly Op[], table: string | undefined): number {
    const context = table === undefined ? {} : { table }
    if (this.closing !== undefined) throw new TablesStateError('TABLES_CLOSED', 'the db is closed', context)
    let payload: Uint8Array
    try {
      payload = encodePayload(ops)
    } catch (error) {
      throw new TablesInputError(
        'TABLES_INVALID_VALUE',
        `the commit could not be encoded (was a value changed after it was inserted with freeze: false?): ${(error as Error).message}`,
        context,
        { cause: error },
      )
    }
    let seq: number
    try {
      seq = this.log.append(payload)
    } catch (error) {
      throw fromLogError(error, context)
    }
    this.bytesSinceSnapshot += payload.byteLength
    if (this.autoCompact !== false && this.compacting === undefined) this.maybeCompact(this.autoCompact)
    return seq
  }

  // ------------------------------------------------------------------ transactions

  /**
   * Runs `fn` as one transaction and returns its result; if it throws, rolls back and rethrows. Inside an open
   * transaction the call joins it (see {@link joined}). The commit is applied and queued, not awaited.
   */
  transactionSync<R>(fn: () => R): R {
    if (typeof fn !== 'function') throw new TypeError('transactionSync() takes a function')
    const outer = this.txn
    if (outer !== undefined) return this.joined(outer, fn)
    if (this.closing !== undefined) throw new TablesStateError('TABLES_CLOSED', 'the db is closed')
    const txn = new Transaction()
    this.txn = txn
    let result: R
    try {
      result = fn()
    } catch (error) {
      this.txn = undefined
      this.abandon(txn)
      throw error
    }
    this.txn = undefined
    if (isThenable(result)) {
      this.abandon(txn)
      Promise.resolve(result).then(noop, noop)
      throw asyncError()
    }
    if (txn.abort !== undefined) {
      this.abandon(txn)
      throw txn.abort.error
    }
    if (txn.ops.length > 0) this.commit(txn)
    return result
  }

  /**
   * The outermost call returns a promise of `fn`'s result that settles once the commit is durable, and rejects
   * (never throws) if `fn` failed, the commit was refused or the log failed. Inside an open transaction the call
   * joins it and returns `fn`'s result itself, like {@link transactionSync}.
   */
  transaction<R>(fn: () => R): Promise<R> | R {
    const outer = this.txn
    if (outer !== undefined) {
      if (typeof fn !== 'function') throw new TypeError('transaction() takes a function')
      return this.joined(outer, fn)
    }
    let result: R
    try {
      if (typeof fn !== 'function') throw new TypeError('transaction() takes a function')
      result = this.transactionSync(fn)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.whenDurable().then(() => result)
  }

  /**
   * A call made inside an open transaction: runs `fn` as part of it and returns its result. If `fn` throws (or
   * returns a promise), the whole transaction is doomed: it rolls back when the outermost call ends, even if the
   * outer function catches the error, and later mutations in it throw `TABLES_TRANSACTION_ABORTED`.
   */
  private joined<R>(txn: Transaction, fn: () => R): R {
    if (txn.abort !== undefined) throw abortedError(txn.abort.error)
    let result: R
    try {
      result = fn()
    } catch (error) {
      txn.abort ??= { error }
      throw error
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(noop, noop)
      const error = asyncError()
      txn.abort ??= { error }
      throw error
    }
    return result
  }

  /** Appends a finished transaction's operations as one commit and emits its event; rolls back if refused. */
  private commit(txn: Transaction): void {
    let seq: number
    try {
      seq = this.append(txn.ops, singleTable(txn))
    } catch (error) {
      this.abandon(txn)
      throw error
    }
    this.seq = seq
    if (this.events.listening) this.events.commit({ seq, changes: groupChanges(txn) })
  }

  /** Rolls a transaction back (and tells a running compaction's captures). */
  private abandon(txn: Transaction): void {
    if (this.capture !== undefined) for (const capture of this.capture.values()) capture.rolledBack(txn)
    txn.rollback()
  }

  /**
   * Resolves once everything committed so far is durable under the log's mode, after the durable events up to
   * it were delivered; rejects with a TablesError if the log failed.
   */
  whenDurable(): Promise<void> {
    return this.events.whenDurable(this.seq).then(undefined, (error: unknown) => {
      throw fromLogError(error)
    })
  }

  // ------------------------------------------------------------------ events

  onCommit(listener: CommitListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onCommit() takes a function')
    return this.events.onCommit(listener)
  }

  /** Refused on a read-only db: it cannot know when the writer's commits reach the disk. */
  onDurable(listener: CommitListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onDurable() takes a function')
    if (this.readOnly) {
      throw new TablesStateError(
        'TABLES_READ_ONLY',
        "a read-only db cannot tell when the writer's commits are durable: listen to onDurable in the writer, or to onCommit here",
      )
    }
    return this.events.onDurable(listener)
  }

  onClose(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onClose() takes a function')
    this.closeListeners = [...this.closeListeners, listener]
    return removal(
      listener,
      () => this.closeListeners,
      (list) => (this.closeListeners = list),
    )
  }

  // ------------------------------------------------------------------ lifecycle

  sync(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    return this.whenDurable()
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    let failure: unknown
    await this.compacting?.catch(() => undefined)
    await this.stopFollowing?.()
    try {
      await this.log.close()
      // Closing flushed and synced everything: the last durable events go out before the db reports closed.
      this.events.deliverDurable(this.seq)
    } catch (error) {
      failure = error
    }
    const listeners = this.closeListeners
    this.closeListeners = []
    this.events.clear()
    for (const listener of listeners) {
      try {
        listener()
      } catch (error) {
        this.onListenerError(error)
      }
    }
    if (failure !== undefined) throw fromLogError(failure)
  }

  // ------------------------------------------------------------------ loading (open and followers)

  /** The version a table's values are written with now: its schema `version`, default 1. */
  versionOf(name: string): number {
    return (this.defs[name] as VersionedDef | undefined)?.version ?? 1
  }

  /**
   * Loads the source's latest snapshot (if any), then every commit after it, into the empty tables. Tables the
   * schema does not declare are collected in `unknown`; values written with an older version are upgraded.
   * Throws a TablesError on any problem. Nothing is ever written here.
   */
  async load(source: CommitSource): Promise<void> {
    try {
      let from = 0
      const snapshot = await source.latestSnapshot()
      if (snapshot !== undefined) {
        await this.applySnapshot(snapshot, false)
        from = snapshot.seq
        this.snapshotBytes = snapshot.bytes
      }
      const start = source.start.seq
      if (start > from) {
        throw new TablesReplayError(`the log starts after seq ${start} and no snapshot covers the commits before it`, {
          seq: start,
        })
      }
      this.seq = from
      if (snapshot !== undefined && 'head' in source && (source as { head: { seq: number } }).head.seq < from) {
        const head = (source as { head: { seq: number } }).head.seq
        throw new TablesReplayError(
          `the snapshot at seq ${from} is ahead of the log, which ends at seq ${head}: commits the snapshot covers were lost from the log`,
          { seq: head },
        )
      }
      for await (const commit of source.read({ from })) {
        this.applyCommit(commit.payload, commit.seq, undefined)
        this.bytesSinceSnapshot += commit.payload.byteLength
        this.seq = commit.seq
      }
    } catch (error) {
      throw error instanceof TablesError ? error : fromLogError(error)
    }
  }

  /**
   * Loads a snapshot into the tables. `replace`: the tables hold state already (a follower reloading): every chunk
   * is decoded first and the tables are emptied and filled in one synchronous step, so readers never see a
   * half-loaded state.
   */
  private async applySnapshot(snapshot: SnapshotSource, replace: boolean): Promise<void> {
    const batches: unknown[][] = []
    let header: SnapshotHeader | undefined
    for await (const item of decodeSnapshot(snapshot.chunks(), snapshot.seq)) {
      if ('header' in item) {
        header = item.header
        this.checkSnapshotVersions(header, snapshot.seq)
        if (!replace) this.recordSnapshotVersions(header)
      } else if (replace) batches.push(item.ops)
      else this.applyOps(item.ops, snapshot.seq, undefined)
    }
    if (replace) {
      for (const table of this.tables.values()) table[RESET]()
      this.recorded.clear()
      this.unknown.clear()
      this.recordSnapshotVersions(header!)
      for (const ops of batches) this.applyOps(ops, snapshot.seq, undefined)
    }
    this.seq = snapshot.seq
  }

  /** Refuses a snapshot whose header records a newer value version than the schema, as a version commit is refused. */
  private checkSnapshotVersions(header: SnapshotHeader, seq: number): void {
    for (const [name, t] of Object.entries(header.tables)) {
      if (this.tables.has(name) && t.version > this.versionOf(name)) throw this.versionAhead(name, t.version, seq)
    }
  }

  /** The refusal of values written with a newer version than the schema declares (a log or a snapshot). */
  private versionAhead(name: string, version: number, seq: number): TablesSchemaError {
    return new TablesSchemaError(
      'TABLES_VERSION_AHEAD',
      `table "${name}" holds values of version ${version} but the schema declares version ${this.versionOf(name)}: open it with the newer schema; the data is kept on disk untouched`,
      { table: name, seq, logVersion: version, schemaVersion: this.versionOf(name) },
    )
  }

  /** Values in a snapshot have the version its header records for their table. */
  private recordSnapshotVersions(header: SnapshotHeader): void {
    for (const [name, t] of Object.entries(header.tables)) this.recorded.set(name, t.version)
  }

  /** Applies one commit payload read from a log. With `out`, change records are collected per table. */
  applyCommit(payload: Uint8Array, seq: number, out: Record<string, TableChange[]> | undefined): void {
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
    this.applyOps(ops, seq, out)
  }

  /** Applies decoded operations (of a commit or a snapshot chunk). */
  applyOps(ops: readonly unknown[], seq: number, out: Record<string, TableChange[]> | undefined): void {
    for (let i = 0; i < ops.length; i++) {
      let op: unknown = ops[i]
      if (!Array.isArray(op) || typeof op[0] !== 'string') {
        throw new TablesReplayError(`commit ${seq}, operation ${i} is not [table, opcode, ...]`, { seq })
      }
      const name = op[0]
      if (name === '') {
        this.applyDbOp(op, seq)
        continue
      }
      const table = this.tables.get(name)
      if (table === undefined) {
        if (!this.unknown.has(name)) this.unknown.set(name, seq)
        continue
      }
      const kind = kindOfOpcode(op[1])
      if (kind !== table.kind) {
        if (kind === undefined) {
          throw new TablesReplayError(`commit ${seq}: unknown opcode ${String(op[1])} for table "${name}"`, {
            seq,
            table: name,
          })
        }
        throw new TablesSchemaError(
          'TABLES_KIND_MISMATCH',
          `table "${name}" is a ${kind} in the log but a ${table.kind} in the schema; the data is kept on disk untouched`,
          { table: name, seq, logKind: kind, schemaKind: table.kind },
        )
      }
      const recorded = this.recorded.get(name) ?? 1
      if (recorded !== this.versionOf(name)) op = this.upgradeOp(name, op as Op, recorded, seq)
      let changes: TableChange[] | undefined
      if (out !== undefined) changes = out[name] ??= []
      try {
        table[APPLY](op as Op, changes, true)
      } catch (error) {
        const where = { seq, table: name, op: opName((op as Op)[1]), opIndex: i }
        if (error instanceof TablesError) {
          throw new TablesReplayError(
            `commit ${seq}: ${error.message}`,
            { ...error.context, ...where },
            { cause: error },
          )
        }
        throw new TablesReplayError(
          `commit ${seq}: operation on table "${name}" failed: ${(error as Error).message}`,
          where,
          { cause: error },
        )
      }
    }
  }

  /** Db-level operations: dropped tables and value versions (see FORMAT.md). */
  private applyDbOp(op: readonly unknown[], seq: number): void {
    switch (op[1]) {
      case DB_OP.DROP_TABLES: {
        const names = op[2]
        if (op.length !== 3 || !Array.isArray(names) || !names.every((n) => typeof n === 'string' && n !== '')) {
          throw new TablesReplayError(`commit ${seq}: malformed drop-tables operation`, { seq })
        }
        for (const name of names as string[]) {
          this.unknown.delete(name)
          this.recorded.delete(name)
          const table = this.tables.get(name)
          if (table !== undefined) {
            table[RESET]()
            this.droppedKnown = true
          }
        }
        return
      }
      case DB_OP.TABLE_VERSION: {
        const [, , name, version] = op
        if (op.length !== 4 || typeof name !== 'string' || !Number.isSafeInteger(version) || (version as number) < 1) {
          throw new TablesReplayError(`commit ${seq}: malformed table-version operation`, { seq })
        }
        if (this.tables.has(name) && (version as number) > this.versionOf(name)) {
          throw this.versionAhead(name, version as number, seq)
        }
        this.recorded.set(name, version as number)
        return
      }
      default:
        throw new TablesReplayError(`commit ${seq} holds a db-level operation this version does not know`, { seq })
    }
  }

  /** Set when a drop-tables operation emptied a table the schema declares (a follower then emits a reset). */
  private droppedKnown = false

  /** Replaces the value carried by `op` (written with version `from`) by the table's `upgrade` of it. */
  private upgradeOp(name: string, op: Op, from: number, seq: number): Op {
    const index = valueArgIndex(op[1])
    if (index === undefined) return op
    const def = this.defs[name] as VersionedDef
    const key = op.length > 3 ? op[2] : undefined
    let value: unknown
    try {
      value = def.upgrade!(op[index], from)
      acceptValue(value, this.freeze, key === undefined ? { table: name } : { table: name, key })
    } catch (error) {
      throw new TablesSchemaError(
        'TABLES_UPGRADE_FAILED',
        `table "${name}": upgrading a value from version ${from} to ${this.versionOf(name)} failed at commit ${seq}: ${(error as Error)?.message ?? error}; the data is kept on disk untouched`,
        { table: name, seq, key, fromVersion: from, cause: error },
      )
    }
    this.upgraded++
    const copy = op.slice()
    copy[index] = value
    return copy
  }

  /**
   * After a writable db is loaded: refuses tables the schema does not declare unless `dropTables` names them all
   * (then a commit records the drop), records each table's value version, and compacts if values were upgraded,
   * so the upgrade is not repeated at the next open. A read-only db checks the same but writes nothing.
   */
  async settle(dropTables: readonly string[]): Promise<void> {
    const ops: Op[] = []
    if (this.unknown.size > 0) {
      const names = [...this.unknown.keys()]
      const kept = names.filter((name) => !dropTables.includes(name))
      if (kept.length > 0) {
        throw new TablesSchemaError(
          'TABLES_UNKNOWN_TABLE',
          `the log holds data for tables the schema does not declare: ${kept.map((n) => JSON.stringify(n)).join(', ')}; the data is kept on disk untouched (add them back to the schema, or pass dropTables: [${kept.map((n) => JSON.stringify(n)).join(', ')}] to drop them for good)`,
          { tables: kept, seq: Math.min(...kept.map((n) => this.unknown.get(n)!)) },
        )
      }
      ops.push(['', DB_OP.DROP_TABLES, names])
    }
    for (const name of this.tables.keys()) {
      const version = this.versionOf(name)
      if ((this.recorded.get(name) ?? 1) !== version) ops.push(['', DB_OP.TABLE_VERSION, name, version])
    }
    // A read-only db writes nothing; the tables `dropTables` names are ignored while following, without onError.
    if (this.readOnly) for (const name of dropTables) this.reportedUnknown.add(name)
    if (ops.length === 0 || this.readOnly) return
    this.seq = this.append(ops, undefined)
    this.applyOps(ops, this.seq, undefined)
    await this.whenDurable()
    if (this.upgraded > 0) await this.compact()
  }

  // ------------------------------------------------------------------ compaction

  /**
   * Writes the full state as a snapshot through the log, which then releases the segments it covers. The state is
   * captured without copying it (see state-capture.ts); encoding and writing go on in chunks while reads and writes
   * continue. Concurrent calls share one compaction.
   */
  compact(): Promise<CompactInfo> {
    if (this.closing !== undefined) return Promise.reject(new TablesStateError('TABLES_CLOSED', 'the db is closed'))
    if (this.readOnly) {
      return Promise.reject(new TablesStateError('TABLES_READ_ONLY', 'a read-only db cannot compact its log'))
    }
    if (this.txn !== undefined) {
      throw new TablesTransactionError('TABLES_IN_TRANSACTION', 'compact() cannot run inside a transaction')
    }
    this.compacting ??= this.runCompaction().finally(() => {
      this.compacting = undefined
    })
    return this.compacting
  }

  private async runCompaction(): Promise<CompactInfo> {
    const started = performance.now()
    const seq = this.seq
    const bytesAtStart = this.bytesSinceSnapshot
    const captures = this.captureAll()
    const tables: Record<string, { kind: TableKind; version: number }> = {}
    for (const name of captures.keys()) {
      tables[name] = { kind: this.tables.get(name)!.kind, version: this.recorded.get(name) ?? 1 }
    }
    const counter = { ops: 0 }
    const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, seq, tables }
    this.capture = captures
    let info: SnapshotInfo
    try {
      info = await this.log.snapshot(encodeSnapshot(header, capturedOps(captures), OPS_PER_CHUNK, counter), seq)
    } catch (error) {
      throw fromLogError(error)
    } finally {
      this.capture = undefined
    }
    this.snapshotBytes = info.bytes
    for (const listener of [...this.snapshotListeners]) listener(info)
    this.bytesSinceSnapshot = Math.max(0, this.bytesSinceSnapshot - bytesAtStart)
    return { seq, bytes: info.bytes, ops: counter.ops, ms: performance.now() - started }
  }

  private autoScheduled = false

  /** Starts a compaction in the background if the log outgrew the policy's ratio. */
  private maybeCompact(policy: { readonly ratio: number; readonly minBytes: number }): void {
    if (this.autoScheduled || this.readOnly) return
    if (this.bytesSinceSnapshot <= policy.ratio * Math.max(this.snapshotBytes, policy.minBytes)) return
    this.autoScheduled = true
    setImmediate(() => {
      this.autoScheduled = false
      if (this.closing !== undefined || this.compacting !== undefined || this.log.failure !== undefined) return
      this.compact().catch((error: unknown) => this.onError(error))
    })
  }

  /** Operations rebuilding the whole state from empty, tables by name, each in its deterministic order. */
  *stateOps(): Generator<Op> {
    yield* capturedOps(this.captureAll())
  }

  /** A capture of every table now, by table name (the snapshot's deterministic table order). */
  private captureAll(): Map<string, TableCapture> {
    const captures = new Map<string, TableCapture>()
    for (const name of [...this.tables.keys()].sort()) captures.set(name, this.tables.get(name)![CAPTURE]())
    return captures
  }

  // ------------------------------------------------------------------ following

  /** Set while following: stops the loop and waits for it. */
  private stopFollowing: (() => Promise<void>) | undefined
  private reportedUnknown = new Set<string>()

  /**
   * Follows `source` from the current seq: applies its commits as they come and emits their events. When the
   * source no longer has the commits it needs (the writer compacted), it reloads from the latest snapshot and
   * emits a reset event. Errors stop following and go to `onError`.
   */
  follow(source: CommitSource): void {
    const controller = new AbortController()
    const loop = (async () => {
      while (!controller.signal.aborted) {
        try {
          for await (const commit of source.tail({ from: this.seq, signal: controller.signal })) {
            if (commit.seq <= this.seq) continue
            if (commit.seq !== this.seq + 1) {
              throw new TablesReplayError(`a gap in the followed commits: got seq ${commit.seq} after ${this.seq}`, {
                seq: commit.seq,
              })
            }
            this.applyFollowed(commit)
          }
          return
        } catch (error) {
          if (controller.signal.aborted) return
          let failure = error
          if ((error as { code?: unknown } | null)?.code === 'LOG_NEED_SNAPSHOT') {
            try {
              await this.reload(source)
              continue
            } catch (reloadError) {
              failure = reloadError
            }
          }
          this.onError(failure instanceof TablesError ? failure : fromLogError(failure))
          return
        }
      }
    })()
    this.stopFollowing = async () => {
      controller.abort()
      await loop
    }
  }

  private applyFollowed(commit: { readonly seq: number; readonly payload: Uint8Array }): void {
    const listening = this.events.listening
    const out: Record<string, TableChange[]> | undefined = listening ? {} : undefined
    this.droppedKnown = false
    this.applyCommit(commit.payload, commit.seq, out)
    this.seq = commit.seq
    for (const name of this.unknown.keys()) {
      if (this.reportedUnknown.has(name)) continue
      this.reportedUnknown.add(name)
      this.onError(
        new TablesSchemaError(
          'TABLES_UNKNOWN_TABLE',
          `the followed log writes table "${name}", which this schema does not declare; its commits are skipped here`,
          { tables: [name], seq: commit.seq },
        ),
      )
    }
    if (!listening) return
    if (this.droppedKnown) this.events.commit({ seq: commit.seq, changes: {}, reset: true })
    else this.events.commit({ seq: commit.seq, changes: out! })
  }

  private async reload(source: CommitSource): Promise<void> {
    const snapshot = await source.latestSnapshot()
    if (snapshot === undefined && source.start.seq === 0) {
      // A source with no snapshot that starts at the beginning (a replica told its history changed): start over.
      for (const table of this.tables.values()) table[RESET]()
      this.seq = 0
      this.events.commit({ seq: 0, changes: {}, reset: true })
      return
    }
    if (snapshot === undefined) {
      throw new TablesReplayError('the followed log released commits but has no snapshot to reload from', {
        seq: this.seq,
      })
    }
    await this.applySnapshot(snapshot, true)
    this.events.commit({ seq: this.seq, changes: {}, reset: true })
  }
}

/** Every captured table's operations, tables in the given (name) order. */
function* capturedOps(captures: ReadonlyMap<string, TableCapture>): Generator<Op> {
  for (const capture of captures.values()) yield* capture.ops()
}

/** A snapshot a db can load: its seq, size and chunks. `@homedb/log`'s `Snapshot` is one. */
export interface SnapshotSource {
  readonly seq: number
  readonly bytes: number
  chunks(): AsyncIterable<Uint8Array>
}

/**
 * Where a db's commits come from: a snapshot, then commits in seq order. `@homedb/log`'s `Log` is one
 * (read-only followers use a `readOnly` log); replication implements it over the network.
 */
export interface CommitSource {
  /** Position before the oldest commit the source still holds. */
  readonly start: { readonly seq: number }
  latestSnapshot(): Promise<SnapshotSource | undefined>
  /** Commits with seq > `from` that exist now, then stops. */
  read(options: { from: number }): AsyncIterable<{ readonly seq: number; readonly payload: Uint8Array }>
  /** Commits with seq > `from`, then waits for new ones until `signal` aborts or the source ends. */
  tail(options: {
    from: number
    signal: AbortSignal
  }): AsyncIterable<{ readonly seq: number; readonly payload: Uint8Array }>
}

function groupChanges(txn: Transaction): Record<string, TableChange[]> {
  const grouped: Record<string, TableChange[]> = {}
  const { changes, tables } = txn
  for (let i = 0; i < changes.length; i++) {
    const name = tables[i]!.name
    const list = grouped[name]
    if (list === undefined) grouped[name] = [changes[i]!]
    else list.push(changes[i]!)
  }
  return grouped
}

/** The table name if every operation of the transaction is on one table (for error context). */
function singleTable(txn: Transaction): string | undefined {
  const first = txn.tables[0]?.name
  for (const t of txn.tables) if (t.name !== first) return undefined
  return first
}

function asyncError(): TablesTransactionError {
  return new TablesTransactionError(
    'TABLES_ASYNC_TRANSACTION',
    'the transaction function returned a promise or thenable: transactions are synchronous, so it was rolled back',
  )
}

function abortedError(cause: unknown): TablesTransactionError {
  return new TablesTransactionError(
    'TABLES_TRANSACTION_ABORTED',
    'a nested transaction threw, so the enclosing transaction will roll back; no further mutations are accepted in it',
    {},
    { cause },
  )
}
