// The engine behind a db handle: owns the log and the tables, runs mutations and transactions (apply in memory,
// encode, append one frame, or roll back), emits commit events, and replays the log at open.
import type { Log } from '@homedb/log'
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
import type { TableDef } from '../schema.js'
import { ListTable } from '../tables/list-table.js'
import { LookupList } from '../tables/lookup-list.js'
import { LookupMap } from '../tables/lookup-map.js'
import { LookupSet } from '../tables/lookup-set.js'
import { LookupTable } from '../tables/lookup-table.js'
import { SingleTable } from '../tables/single-table.js'
import type { TableChange } from '../types.js'
import { decodePayload, encodePayload } from './codec.js'
import { kindOfOpcode, type Op } from './opcodes.js'
import { APPLY, type BaseTable, STATE_OPS, UNDO } from './table-base.js'
import { Transaction } from './transaction.js'

/** The commit event in its untyped internal form (the public type is `CommitEvent<D>`). */
export interface RawCommitEvent {
  readonly seq: number
  readonly changes: { readonly [table: string]: readonly TableChange[] }
}

type CommitListener = (event: RawCommitEvent) => void

/** A change record seen loosely, for the mutation methods that read its `previous` or `index`. */
export type LooseChange = { readonly op: string; readonly previous?: unknown; readonly index?: number }

/** Settings of a core, resolved from the `openDb` options. */
export interface CoreSettings {
  readonly freeze: boolean
  readonly onListenerError: (error: unknown) => void
}

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
  private commitListeners: readonly CommitListener[] = []
  private closeListeners: readonly (() => void)[] = []
  private emitting = false
  private readonly queue: RawCommitEvent[] = []
  private readonly onListenerError: (error: unknown) => void

  constructor(defs: { readonly [name: string]: TableDef }, log: Log, settings: CoreSettings) {
    this.log = log
    this.freeze = settings.freeze
    this.onListenerError = settings.onListenerError
    this.readOnly = log.readOnly
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
      table[APPLY](op, changes, false)
      for (let i = from; i < changes.length; i++) txn.tables.push(table)
      txn.ops.push(op)
      return changes[changes.length - 1]!
    }
    const out: TableChange[] = []
    table[APPLY](op, out, false)
    let seq: number
    try {
      seq = this.append([op], table.name)
    } catch (error) {
      for (let i = out.length - 1; i >= 0; i--) table[UNDO](out[i]!)
      throw error
    }
    this.seq = seq
    if (this.commitListeners.length > 0) this.emit({ seq, changes: { [table.name]: out } })
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
    try {
      return this.log.append(payload)
    } catch (error) {
      throw fromLogError(error, context)
    }
  }

  // ------------------------------------------------------------------ transactions

  transaction<R>(fn: () => R): Promise<R> {
    if (typeof fn !== 'function') {
      throw new TypeError('transaction() takes a function')
    }
    const outer = this.txn
    if (outer !== undefined) return this.nested(outer, fn)
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
    if (txn.ops.length > 0) {
      let seq: number
      try {
        seq = this.append(txn.ops, singleTable(txn))
      } catch (error) {
        this.abandon(txn)
        throw error
      }
      this.seq = seq
      if (this.commitListeners.length > 0) this.emit({ seq, changes: groupChanges(txn) })
    }
    const durable = this.durable()
    for (const w of txn.nested) durable.then(() => w.resolve(w.result), w.reject)
    return durable.then(() => result)
  }

  private nested<R>(txn: Transaction, fn: () => R): Promise<R> {
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
    const promise = new Promise<R>((resolve, reject) => {
      txn.nested.push({ result, resolve: resolve as (value: unknown) => void, reject })
    })
    promise.then(noop, noop) // nobody can await it inside the synchronous outer function: never unhandled
    return promise
  }

  /** Rolls a transaction back and settles the promises of its nested calls. */
  private abandon(txn: Transaction): void {
    txn.rollback()
    if (txn.nested.length === 0) return
    const error = new TablesTransactionError('TABLES_TRANSACTION_ABORTED', 'the enclosing transaction rolled back')
    for (const w of txn.nested) w.reject(error)
  }

  /** Resolves once everything appended so far is durable under the log's mode. */
  private durable(): Promise<void> {
    return this.log.sync().then(undefined, (error: unknown) => {
      throw fromLogError(error)
    })
  }

  // ------------------------------------------------------------------ events

  onCommit(listener: CommitListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onCommit() takes a function')
    this.commitListeners = [...this.commitListeners, listener]
    let active = true
    return () => {
      if (!active) return
      active = false
      const index = this.commitListeners.indexOf(listener)
      if (index >= 0) this.commitListeners = this.commitListeners.filter((_, i) => i !== index)
    }
  }

  onClose(listener: () => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onClose() takes a function')
    this.closeListeners = [...this.closeListeners, listener]
    let active = true
    return () => {
      if (!active) return
      active = false
      const index = this.closeListeners.indexOf(listener)
      if (index >= 0) this.closeListeners = this.closeListeners.filter((_, i) => i !== index)
    }
  }

  /** Delivers an event to every listener, in seq order even if a listener commits while being called. */
  private emit(event: RawCommitEvent): void {
    if (this.emitting) {
      this.queue.push(event)
      return
    }
    this.emitting = true
    try {
      let next: RawCommitEvent | undefined = event
      while (next !== undefined) {
        for (const listener of this.commitListeners) {
          try {
            listener(next)
          } catch (error) {
            this.onListenerError(error)
          }
        }
        next = this.queue.shift()
      }
    } finally {
      this.emitting = false
    }
  }

  // ------------------------------------------------------------------ lifecycle

  sync(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    return this.durable()
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    let failure: unknown
    try {
      await this.log.close()
    } catch (error) {
      failure = error
    }
    const listeners = this.closeListeners
    this.closeListeners = []
    this.commitListeners = []
    for (const listener of listeners) {
      try {
        listener()
      } catch (error) {
        this.onListenerError(error)
      }
    }
    if (failure !== undefined) throw fromLogError(failure)
  }

  // ------------------------------------------------------------------ replay

  /**
   * Streams the log into the tables. Operations for tables the schema does not declare are skipped and
   * reported together at the end (the files are never changed). Throws a TablesError on any problem.
   */
  async replay(): Promise<void> {
    const start = this.log.start.seq
    if (start > 0) {
      throw new TablesReplayError(
        `the log starts after seq ${start} (earlier commits are only in a snapshot); loading snapshots is not supported yet`,
        { seq: start },
      )
    }
    const unknown = new Map<string, number>()
    try {
      for await (const commit of this.log.read()) {
        this.applyCommit(commit.payload, commit.seq, unknown, undefined)
        this.seq = commit.seq
      }
    } catch (error) {
      throw error instanceof TablesError ? error : fromLogError(error)
    }
    if (unknown.size > 0) {
      const names = [...unknown.keys()]
      throw new TablesSchemaError(
        'TABLES_UNKNOWN_TABLE',
        `the log holds data for tables the schema does not declare: ${names.map((n) => JSON.stringify(n)).join(', ')}; the data is kept on disk untouched`,
        { tables: names, seq: Math.min(...unknown.values()) },
      )
    }
    this.seq = this.log.head.seq
  }

  /**
   * Applies one commit payload read from a log. Unknown tables go to `unknown` (name → first seq) and are
   * skipped. With `out`, change records are collected per table (what a follower emits; issue 5).
   */
  applyCommit(
    payload: Uint8Array,
    seq: number,
    unknown: Map<string, number>,
    out: Record<string, TableChange[]> | undefined,
  ): void {
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
    for (let i = 0; i < ops.length; i++) {
      const op: unknown = ops[i]
      if (!Array.isArray(op) || typeof op[0] !== 'string') {
        throw new TablesReplayError(`commit ${seq}, operation ${i} is not [table, opcode, ...]`, { seq })
      }
      const name = op[0]
      const table = this.tables.get(name)
      if (table === undefined) {
        if (name === '') {
          throw new TablesReplayError(`commit ${seq} holds a db-level operation this version does not know`, { seq })
        }
        if (!unknown.has(name)) unknown.set(name, seq)
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
      let changes: TableChange[] | undefined
      if (out !== undefined) changes = out[name] ??= []
      try {
        table[APPLY](op, changes, true)
      } catch (error) {
        if (error instanceof TablesError) {
          throw new TablesReplayError(`commit ${seq}: ${error.message}`, { ...error.context, seq }, { cause: error })
        }
        throw new TablesReplayError(
          `commit ${seq}: operation on table "${name}" failed: ${(error as Error).message}`,
          { seq, table: name },
          { cause: error },
        )
      }
    }
  }

  /** Operations rebuilding the whole state from empty, tables by name, each in its deterministic order. */
  *stateOps(): Generator<Op> {
    for (const name of [...this.tables.keys()].sort()) yield* this.tables.get(name)![STATE_OPS]()
  }
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
