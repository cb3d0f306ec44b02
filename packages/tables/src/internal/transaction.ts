// Transactions: the state of one open transaction (the operations to encode at commit, the change records that
// double as the undo list) and the runner behind `transactionSync` and `transaction`: nesting (a nested call joins
// the open transaction; if it throws, the whole transaction is doomed), rollback, and the refusal of a function that
// returns a promise. The commit itself goes through the TransactionHost the db core gives the runner.
//
// A transaction moves open → committed or open → rolled back, once; the runner holds at most one open transaction
// (the outermost call's), and none once that call has returned. Both are checked (invariant.ts).
import { TablesStateError, TablesTransactionError } from '../errors.js'
import type { TableChange } from '../table-change.js'
import { type BaseTable, UNDO } from './base-table.js'
import { violated } from './invariant.js'
import type { Op } from './opcodes.js'

/** Changes grouped by table name, as the commit event carries them. */
export type GroupedChanges = Record<string, TableChange[]>

/** One open (outermost) transaction. Nested calls join it. */
export class Transaction {
  /** Operations, in order, as they will be encoded into the commit payload. */
  readonly ops: Op[] = []
  /** Change records, in order; `tables[i]` is the table of `changes[i]`. Undo walks them backwards. */
  readonly changes: TableChange[] = []
  readonly tables: BaseTable[] = []
  /** Set once an operation replaced, removed or cleared data, or changed nothing (see APPLY in base-table.ts). */
  deadWeight = false
  /** Set when a nested transaction threw: the whole transaction will roll back and rethrow this error. */
  abort: { readonly error: unknown } | undefined
  #state: 'open' | 'committed' | 'rolled back' = 'open'

  /** Records that the transaction's commit was appended. */
  committed(): void {
    if (this.#state !== 'open') violated('transaction-ends-once', { state: this.#state, to: 'committed' })
    if (this.changes.length !== this.tables.length) {
      violated('transaction-changes-have-tables', { changes: this.changes.length, tables: this.tables.length })
    }
    this.#state = 'committed'
  }

  /** Reverts every change, newest first. */
  rollback(): void {
    if (this.#state !== 'open') violated('transaction-ends-once', { state: this.#state, to: 'rolled back' })
    for (let i = this.changes.length - 1; i >= 0; i--) this.tables[i]![UNDO](this.changes[i]!)
    this.changes.length = 0
    this.tables.length = 0
    this.ops.length = 0
    this.#state = 'rolled back'
  }

  /** The changes grouped by table, in order within each table (the commit event's `changes`). */
  grouped(): GroupedChanges {
    const grouped: GroupedChanges = {}
    const { changes, tables } = this
    for (let i = 0; i < changes.length; i++) {
      const name = tables[i]!.name
      const list = grouped[name]
      if (list === undefined) grouped[name] = [changes[i]!]
      else list.push(changes[i]!)
    }
    return grouped
  }

  /** The table name if every operation of the transaction is on one table (for error context). */
  singleTable(): string | undefined {
    const first = this.tables[0]?.name
    for (const t of this.tables) if (t.name !== first) return undefined
    return first
  }
}

/** What the runner needs from the db: whether it is closed, and how a finished transaction is committed. */
export interface TransactionHost {
  /** True once the db is closed (or closing): a new transaction is refused with `TABLES_CLOSED`. */
  closed(): boolean
  /**
   * Appends the transaction's operations as one commit and emits its event; throws a TablesError, with nothing
   * appended, if the commit is refused.
   */
  commit(txn: Transaction): void
  /** A transaction rolled back: whoever tracks applied operations (a running compaction's captures) forgets it. */
  rolledBack(txn: Transaction): void
  /** Resolves once everything committed so far is durable (rejects with a TablesError if the log failed). */
  whenDurable(): Promise<void>
}

const noop = (): void => {}

/** Runs transactions over a {@link TransactionHost}; `current` is the open transaction, if a call is running. */
export class TransactionRunner {
  readonly #host: TransactionHost
  #current: Transaction | undefined

  constructor(host: TransactionHost) {
    this.#host = host
  }

  /** The open transaction, if a `transaction()` or `transactionSync()` call is running. */
  get current(): Transaction | undefined {
    return this.#current
  }

  /**
   * Runs `fn` as one transaction and returns its result; if it throws, rolls back and rethrows. Inside an open
   * transaction the call joins it (see {@link joined}). The commit is applied and queued, not awaited.
   */
  runSync<R>(fn: () => R): R {
    if (typeof fn !== 'function') throw new TypeError('transactionSync() takes a function')
    const outer = this.#current
    if (outer !== undefined) return this.joined(outer, fn)
    if (this.#host.closed()) throw new TablesStateError('TABLES_CLOSED', 'the db is closed')
    const txn = new Transaction()
    this.#current = txn
    let result: R
    try {
      result = fn()
    } catch (error) {
      this.#end(txn)
      this.#abandon(txn)
      throw error
    }
    this.#end(txn)
    if (isThenable(result)) {
      this.#abandon(txn)
      Promise.resolve(result).then(noop, noop)
      throw asyncError()
    }
    if (txn.abort !== undefined) {
      this.#abandon(txn)
      throw txn.abort.error
    }
    if (txn.ops.length > 0) this.#commit(txn)
    return result
  }

  /**
   * The outermost call returns a promise of `fn`'s result that settles once the commit is durable, and rejects
   * (never throws) if `fn` failed, the commit was refused or the log failed. Inside an open transaction the call
   * joins it and returns `fn`'s result itself, like {@link runSync}.
   */
  run<R>(fn: () => R): Promise<R> | R {
    const outer = this.#current
    if (outer !== undefined) {
      if (typeof fn !== 'function') throw new TypeError('transaction() takes a function')
      return this.joined(outer, fn)
    }
    let result: R
    try {
      if (typeof fn !== 'function') throw new TypeError('transaction() takes a function')
      result = this.runSync(fn)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#host.whenDurable().then(() => result)
  }

  /**
   * A call made inside an open transaction: runs `fn` as part of it and returns its result. If `fn` throws (or
   * returns a promise), the whole transaction is doomed: it rolls back when the outermost call ends, even if the
   * outer function catches the error, and later mutations in it throw `TABLES_TRANSACTION_ABORTED`.
   */
  joined<R>(txn: Transaction, fn: () => R): R {
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

  /** The outermost call of `txn` returned or threw: no transaction is open any more. */
  #end(txn: Transaction): void {
    if (this.#current !== txn) violated('one-open-transaction', { open: this.#current !== undefined })
    this.#current = undefined
  }

  /** Appends a finished transaction's operations as one commit and emits its event; rolls back if refused. */
  #commit(txn: Transaction): void {
    try {
      this.#host.commit(txn)
    } catch (error) {
      this.#abandon(txn)
      throw error
    }
    txn.committed()
  }

  /** Rolls a transaction back (and tells the host, for a running compaction's captures). */
  #abandon(txn: Transaction): void {
    this.#host.rolledBack(txn)
    txn.rollback()
  }
}

/** The error of a mutation in a transaction a nested call doomed. */
export function abortedError(cause: unknown): TablesTransactionError {
  return new TablesTransactionError(
    'TABLES_TRANSACTION_ABORTED',
    'a nested transaction threw, so the enclosing transaction will roll back; no further mutations are accepted in it',
    {},
    { cause },
  )
}

function asyncError(): TablesTransactionError {
  return new TablesTransactionError(
    'TABLES_ASYNC_TRANSACTION',
    'the transaction function returned a promise or thenable: transactions are synchronous, so it was rolled back',
  )
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
