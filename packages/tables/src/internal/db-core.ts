// The engine behind a db handle: owns the log, the tables and the seq they are at, runs the write path (a validated
// operation applied in memory, encoded, appended as one log frame and its events emitted, or undone), and wires the
// pieces that do the rest: transactions (transaction.ts), replay at open (replay.ts), settling with the schema
// (settle.ts), compaction (compactor.ts), following a writer (follower.ts) and commit events (commit-events.ts). The
// tables see it as their TableHost, the handle users hold as its DatabaseCore; neither imports this file.
import type { Log } from '@homedb/log'
import type { CommitSource } from '../commit-source.js'
import { type CompactInfo, Database, type DatabaseCore, type WaitForOptions } from '../database.js'
import { TablesInputError, TablesStateError, TablesTransactionError } from '../errors.js'
import type { TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'
import { ListTable } from '../tables/list-table.js'
import { LookupList } from '../tables/lookup-list.js'
import { LookupMap } from '../tables/lookup-map.js'
import { LookupSet } from '../tables/lookup-set.js'
import { LookupTable } from '../tables/lookup-table.js'
import { SingleTable } from '../tables/single-table.js'
import { AppliedSeq } from './applied-seq.js'
import { APPLY, type BaseTable, type LooseChange, type TableHost, UNDO } from './base-table.js'
import { encodePayload } from './codec.js'
import { CommitEvents, type CommitListener, removal } from './commit-events.js'
import { type AutoCompact, Compactor, captureAll, capturedOps } from './compactor.js'
import { Follower } from './follower.js'
import { fromLogError } from './log-errors.js'
import { DB_OP, type Op } from './opcodes.js'
import { Replay } from './replay.js'
import { settleOps } from './settle.js'
import { stateHashOf } from './state-hash.js'
import { abortedError, type Transaction, TransactionRunner } from './transaction.js'
import { waitForSeq } from './wait-for.js'

/** Settings of a core, resolved from the `openDb` options. */
export interface CoreSettings {
  readonly freeze: boolean
  readonly onListenerError: (error: unknown) => void
  /** Receives errors of background work (auto-compaction, following a writer). */
  readonly onError: (error: unknown) => void
  /** Mutations refused (followers); defaults to the log's own `readOnly`. */
  readonly readOnly?: boolean
  /**
   * Compact when the log since the last snapshot exceeds `ratio` × max(snapshot, `minBytes`) and holds dead weight
   * (compactor.ts); false: never.
   */
  readonly autoCompact: AutoCompact
}

const cores = new WeakMap<object, DbCore>()

/** The core behind a db handle (for this package's internals and tests; followers and compaction build on it). */
export function coreOf(db: object): DbCore {
  const core = cores.get(db)
  if (core === undefined) throw new TypeError('not a db opened by @homedb/tables')
  return core
}

/** The engine of one open db. */
export class DbCore implements TableHost, DatabaseCore {
  /** The public object users hold. */
  readonly db: Database
  readonly log: Log
  readonly freeze: boolean
  readonly readOnly: boolean
  /** Tables by name, in schema order. */
  readonly tables = new Map<string, BaseTable>()
  /** The replay state: value versions recorded in the log, undeclared tables, and applying what a log holds. */
  readonly replay: Replay
  /** The onCommit / onDurable listeners and their delivery. */
  readonly events: CommitEvents
  readonly compactor: Compactor
  readonly #seq = new AppliedSeq()
  readonly #transactions: TransactionRunner
  readonly #onListenerError: (error: unknown) => void
  readonly #onError: (error: unknown) => void
  #closing: Promise<void> | undefined
  #closeListeners: readonly (() => void)[] = []
  #follower: Follower | undefined
  /** Tables `dropTables` named on a read-only db: a follower skips them without reporting them. */
  #ignoredTables: readonly string[] = []

  constructor(defs: { readonly [name: string]: TableDef }, log: Log, settings: CoreSettings) {
    this.log = log
    this.freeze = settings.freeze
    this.readOnly = settings.readOnly ?? log.readOnly
    this.#onListenerError = settings.onListenerError
    this.#onError = settings.onError
    this.events = new CommitEvents(log, settings.onListenerError)
    this.replay = new Replay(this.tables, defs, settings.freeze)
    this.compactor = new Compactor({
      log,
      tables: this.tables,
      seq: () => this.#seq.value,
      recordedVersion: (name) => this.replay.recorded.get(name) ?? 1,
      closing: () => this.#closing !== undefined,
      policy: this.readOnly ? false : settings.autoCompact,
      onError: settings.onError,
    })
    this.#transactions = new TransactionRunner({
      closed: () => this.#closing !== undefined,
      commit: (txn) => this.#commitTransaction(txn),
      rolledBack: (txn) => this.compactor.rolledBack(txn),
      whenDurable: () => this.whenDurable(),
    })
    this.db = new Database(this)
    cores.set(this.db, this)
    for (const [name, def] of Object.entries(defs)) {
      const table = createTable(this, name, def)
      this.tables.set(name, table)
      Object.defineProperty(this.db, name, { value: table, enumerable: true })
    }
  }

  /** Seq of the last commit applied in memory. */
  get seq(): number {
    return this.#seq.value
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined
  }

  // The write path --------------------------------------------------------------------------------------------

  /** Throws unless a mutation may run now. Called before anything is validated or changed. */
  assertWritable(table: string): void {
    if (this.#closing !== undefined) throw new TablesStateError('TABLES_CLOSED', 'the db is closed', { table })
    if (this.readOnly) throw new TablesStateError('TABLES_READ_ONLY', 'the db was opened read-only', { table })
    const failure = this.log.failure
    if (failure !== undefined) throw fromLogError(failure, { table })
    const abort = this.#transactions.current?.abort
    if (abort !== undefined) throw abortedError(abort.error)
  }

  /**
   * Applies a validated operation to `table` and records it: inside a transaction it joins it, outside it is
   * committed at once (one frame), or undone if the commit is refused. Returns the last change record it produced.
   */
  mutate(table: BaseTable, op: Op): LooseChange {
    const txn = this.#transactions.current
    if (txn !== undefined) {
      const changes = txn.changes
      const from = changes.length
      this.compactor.beforeApply(table, op, txn)
      if (!table[APPLY](op, changes, false)) txn.deadWeight = true
      for (let i = from; i < changes.length; i++) txn.tables.push(table)
      txn.ops.push(op)
      return changes[changes.length - 1]!
    }
    const out: TableChange[] = []
    const solo = {}
    this.compactor.beforeApply(table, op, solo)
    const onlyAdded = table[APPLY](op, out, false)
    let seq: number
    try {
      seq = this.#append([op], table.name, !onlyAdded)
    } catch (error) {
      for (let i = out.length - 1; i >= 0; i--) table[UNDO](out[i]!)
      this.compactor.rolledBack(solo)
      throw error
    }
    if (this.events.listening) this.events.commit({ seq, changes: { [table.name]: out } })
    return out[out.length - 1]!
  }

  /** A finished transaction's operations as one commit, and its event; throws (nothing appended) if refused. */
  #commitTransaction(txn: Transaction): void {
    const seq = this.#append(txn.ops, txn.singleTable(), txn.deadWeight)
    if (this.events.listening) this.events.commit({ seq, changes: txn.grouped() })
  }

  /**
   * Encodes and appends one commit, which becomes the db's seq; throws a TablesError (nothing appended) if refused.
   * `deadWeight`: the commit replaced or removed data (the automatic compaction policy counts it).
   */
  #append(ops: readonly Op[], table: string | undefined, deadWeight: boolean): number {
    const context = table === undefined ? {} : { table }
    if (this.#closing !== undefined) throw new TablesStateError('TABLES_CLOSED', 'the db is closed', context)
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
    this.#seq.advance(seq)
    this.compactor.appended(payload.byteLength, deadWeight)
    return seq
  }

  // Transactions and durability -------------------------------------------------------------------------------

  transactionSync<R>(fn: () => R): R {
    return this.#transactions.runSync(fn)
  }

  transaction<R>(fn: () => R): Promise<R> | R {
    return this.#transactions.run(fn)
  }

  /**
   * Resolves once everything committed so far is durable under the log's mode, after the durable events up to it
   * were delivered; rejects with a TablesError if the log failed.
   */
  whenDurable(): Promise<void> {
    return this.events.whenDurable(this.#seq.value).then(undefined, (error: unknown) => {
      throw fromLogError(error)
    })
  }

  sync(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    return this.whenDurable()
  }

  // Events ----------------------------------------------------------------------------------------------------

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
    this.#closeListeners = [...this.#closeListeners, listener]
    return removal(
      listener,
      () => this.#closeListeners,
      (list) => (this.#closeListeners = list),
    )
  }

  // Compaction and the state ----------------------------------------------------------------------------------

  /** Writes the full state as a snapshot (see compactor.ts). Concurrent calls share one compaction. */
  compact(): Promise<CompactInfo> {
    if (this.#closing !== undefined) return Promise.reject(new TablesStateError('TABLES_CLOSED', 'the db is closed'))
    if (this.readOnly) {
      return Promise.reject(new TablesStateError('TABLES_READ_ONLY', 'a read-only db cannot compact its log'))
    }
    if (this.#transactions.current !== undefined) {
      throw new TablesTransactionError('TABLES_IN_TRANSACTION', 'compact() cannot run inside a transaction')
    }
    return this.compactor.compact()
  }

  /** Operations rebuilding the whole state from empty, tables by name, each in its deterministic order. */
  *stateOps(): Generator<Op> {
    yield* capturedOps(captureAll(this.tables))
  }

  stateHash(): string {
    return stateHashOf(this.tables, this.stateOps())
  }

  waitFor(seq: number, options?: WaitForOptions): Promise<void> {
    return waitForSeq(this, seq, options)
  }

  // Open: load, settle, follow --------------------------------------------------------------------------------

  /** Loads the source's latest snapshot and every commit after it into the empty tables (see replay.ts). */
  load(source: CommitSource): Promise<void> {
    return this.replay.load(source, this.#seq, this.compactor)
  }

  /**
   * After a writable db is loaded: refuses tables the schema does not declare unless `dropTables` names them all
   * (then a commit records the drop), records each table's value version, and compacts if values were upgraded,
   * so the upgrade is not repeated at the next open. A read-only db checks the same but writes nothing.
   */
  async settle(dropTables: readonly string[]): Promise<void> {
    const ops = settleOps(this.replay, this.tables.keys(), dropTables)
    // A read-only db writes nothing; the tables `dropTables` names are ignored while following, without onError.
    if (this.readOnly) this.#ignoredTables = dropTables
    if (ops.length === 0 || this.readOnly) return
    const seq = this.#append(
      ops,
      undefined,
      ops.some((op) => op[1] === DB_OP.DROP_TABLES),
    )
    this.replay.applyOps(ops, seq, undefined)
    await this.whenDurable()
    if (this.replay.upgraded > 0) await this.compact()
  }

  /** Follows `source` from the current seq, applying its commits as they come (see follower.ts). */
  follow(source: CommitSource): void {
    const { tables, replay, events } = this
    this.#follower = new Follower({
      tables,
      replay,
      events,
      seq: this.#seq,
      onError: this.#onError,
      ignored: this.#ignoredTables,
    })
    this.#follower.start(source)
  }

  // Closing ---------------------------------------------------------------------------------------------------

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    let failure: unknown
    await this.compactor.idle()
    await this.#follower?.stop()
    try {
      await this.log.close()
      // Closing flushed and synced everything: the last durable events go out before the db reports closed.
      this.events.deliverDurable(this.#seq.value)
    } catch (error) {
      failure = error
    }
    const listeners = this.#closeListeners
    this.#closeListeners = []
    this.events.clear()
    for (const listener of listeners) {
      try {
        listener()
      } catch (error) {
        this.#onListenerError(error)
      }
    }
    if (failure !== undefined) throw fromLogError(failure)
  }
}

/** The table object of kind `def.kind` named `name`, writing through `host`. */
function createTable(host: TableHost, name: string, def: TableDef): BaseTable {
  switch (def.kind) {
    case 'single':
      return new SingleTable(host, name, def)
    case 'lookupTable':
      return new LookupTable(host, name, def)
    case 'list':
      return new ListTable(host, name, def)
    case 'lookupList':
      return new LookupList(host, name, def)
    case 'lookupSet':
      return new LookupSet(host, name, def)
    case 'lookupMap':
      return new LookupMap(host, name, def)
  }
}
