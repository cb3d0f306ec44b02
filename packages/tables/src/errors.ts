// Errors of @homedb/tables: one root class, a subclass per category, a stable string `code` and the context to act on.
import type { StandardSchemaV1 } from '@standard-schema/spec'

/** Where a tables error happened: which table, key, index, seq … Only the fields that apply are set. */
export interface TablesErrorContext {
  /** Table name (the schema's property name). */
  table?: string
  /** Key of a keyed table (the first key for lookupMap). */
  key?: unknown
  /** Second key of a lookupMap. */
  key2?: unknown
  /** Index in a list. */
  index?: unknown
  /** Path inside a value, e.g. `$.tags[2].name`. */
  path?: string
  /** Sequence number of the commit involved (replay errors). */
  seq?: number
  /** Table names involved (unknown tables found in the log). */
  tables?: readonly string[]
  /** Code of the wrapped `@homedb/log` error, if any. */
  logCode?: string
  /** What a table's Standard Schema reported (`TABLES_SCHEMA_REJECTED`, or a key its key check rejected). */
  issues?: readonly StandardSchemaV1.Issue[]
  /**
   * Set on a `TABLES_CORRUPT_OP` whose log cannot rebuild a state because commits are missing from its files (no
   * snapshot covers its start, or its snapshot is ahead of it): damage that a restore (`bootstrap`) heals.
   */
  incomplete?: boolean
  /** Anything else worth knowing. */
  [name: string]: unknown
}

/** Stable error codes of @homedb/tables. */
export type TablesErrorCode =
  | 'TABLES_CONFIG'
  | 'TABLES_SCHEMA'
  | 'TABLES_UNKNOWN_TABLE'
  | 'TABLES_KIND_MISMATCH'
  | 'TABLES_INVALID_KEY'
  | 'TABLES_INVALID_VALUE'
  | 'TABLES_OUT_OF_RANGE'
  | 'TABLES_NOT_FOUND'
  | 'TABLES_SCHEMA_REJECTED'
  | 'TABLES_ASYNC_SCHEMA'
  | 'TABLES_TOO_LARGE'
  | 'TABLES_CLOSED'
  | 'TABLES_READ_ONLY'
  | 'TABLES_ASYNC_TRANSACTION'
  | 'TABLES_TRANSACTION_ABORTED'
  | 'TABLES_LOG_FAILED'
  | 'TABLES_LOG_ERROR'
  | 'TABLES_CORRUPT_OP'
  | 'TABLES_VERSION_AHEAD'
  | 'TABLES_UPGRADE_FAILED'
  | 'TABLES_IN_TRANSACTION'
  | 'TABLES_WAIT_TIMEOUT'
  | 'TABLES_WAIT_ABORTED'
  | 'TABLES_RESTORE_INCOMPLETE'
  | 'TABLES_BOOTSTRAP'
  | 'TABLES_INTERNAL'

/**
 * Root of every error thrown by @homedb/tables. Catch this to catch them all; switch on `code`.
 *
 * @example
 * ```ts
 * try {
 *   db.events.pop()
 * } catch (e) {
 *   if (e instanceof TablesError && e.code === 'TABLES_OUT_OF_RANGE') console.log(e.context.table)
 * }
 * ```
 */
export class TablesError extends Error {
  override name = 'TablesError'
  /** Stable, documented code: switch on it rather than on the message. */
  readonly code: TablesErrorCode
  /** Where the error happened. */
  readonly context: TablesErrorContext
  constructor(code: TablesErrorCode, message: string, context: TablesErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.context = context
  }
}

/** Invalid options to {@link openDb} (for example `durability: 'fsync'` without a `dir`). Code `TABLES_CONFIG`. */
export class TablesConfigError extends TablesError {
  override name = 'TablesConfigError'
  constructor(message: string, context: TablesErrorContext = {}, options?: { cause?: unknown }) {
    super('TABLES_CONFIG', message, context, options)
  }
}

/**
 * The schema is invalid (`TABLES_SCHEMA`; a table's validator answered asynchronously: `TABLES_ASYNC_SCHEMA`), or
 * does not match the data in the log: the log holds tables the schema does not declare (`TABLES_UNKNOWN_TABLE`,
 * `context.tables` names them) or a table of another kind (`TABLES_KIND_MISMATCH`). Opening is refused and the
 * files are left untouched; a refused insert changed nothing.
 */
export class TablesSchemaError extends TablesError {
  override name = 'TablesSchemaError'
  constructor(
    code:
      | 'TABLES_SCHEMA'
      | 'TABLES_UNKNOWN_TABLE'
      | 'TABLES_KIND_MISMATCH'
      | 'TABLES_VERSION_AHEAD'
      | 'TABLES_UPGRADE_FAILED'
      | 'TABLES_ASYNC_SCHEMA',
    message: string,
    context: TablesErrorContext = {},
  ) {
    super(code, message, context)
  }
}

/**
 * A mutation was refused because of its arguments: a key that is not a string or finite number or fails the table's
 * key check (`TABLES_INVALID_KEY`), a value that would not round-trip through the codec (`TABLES_INVALID_VALUE`) or
 * that the table's schema rejected (`TABLES_SCHEMA_REJECTED`, `context.issues` holds the schema's issues), an
 * index out of range, `update` of a key that does not exist (`TABLES_NOT_FOUND`), or a transaction too large for
 * one log frame. Nothing was changed, in memory or in the log.
 */
export class TablesInputError extends TablesError {
  override name = 'TablesInputError'
  constructor(
    code:
      | 'TABLES_INVALID_KEY'
      | 'TABLES_INVALID_VALUE'
      | 'TABLES_OUT_OF_RANGE'
      | 'TABLES_SCHEMA_REJECTED'
      | 'TABLES_NOT_FOUND'
      | 'TABLES_TOO_LARGE',
    message: string,
    context: TablesErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options)
  }
}

/** A mutation on a closed db (`TABLES_CLOSED`) or on a read-only db (`TABLES_READ_ONLY`). Nothing was changed. */
export class TablesStateError extends TablesError {
  override name = 'TablesStateError'
  constructor(code: 'TABLES_CLOSED' | 'TABLES_READ_ONLY', message: string, context: TablesErrorContext = {}) {
    super(code, message, context)
  }
}

/**
 * A transaction was refused: its function returned a promise or thenable (`TABLES_ASYNC_TRANSACTION`), or it went on
 * after a nested transaction had thrown (`TABLES_TRANSACTION_ABORTED`, with the nested error as `cause`).
 * The transaction was rolled back.
 */
export class TablesTransactionError extends TablesError {
  override name = 'TablesTransactionError'
  constructor(
    code: 'TABLES_ASYNC_TRANSACTION' | 'TABLES_TRANSACTION_ABORTED' | 'TABLES_IN_TRANSACTION',
    message: string,
    context: TablesErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options)
  }
}

/**
 * The log under the db reported an error; `cause` is the `@homedb/log` error and `context.logCode` its code.
 * `TABLES_LOG_FAILED`: the log failed an I/O operation and stopped (fail-stop); every later write throws until the
 * db is reopened. `TABLES_LOG_ERROR`: any other log error, for example at open (`LOG_LOCKED`, `LOG_CORRUPT`).
 */
export class TablesLogError extends TablesError {
  override name = 'TablesLogError'
  constructor(
    code: 'TABLES_LOG_FAILED' | 'TABLES_LOG_ERROR',
    message: string,
    context: TablesErrorContext = {},
    cause?: unknown,
  ) {
    super(code, message, context, { cause })
  }
}

/**
 * A commit in the log could not be applied: its payload does not decode to valid operations (`TABLES_CORRUPT_OP`).
 * `context.seq` names the commit. Opening is refused and the files are left untouched.
 */
export class TablesReplayError extends TablesError {
  override name = 'TablesReplayError'
  constructor(message: string, context: TablesErrorContext = {}, options?: { cause?: unknown }) {
    super('TABLES_CORRUPT_OP', message, context, options)
  }
}

/**
 * `db.waitFor(seq)` gave up: the timeout passed (`TABLES_WAIT_TIMEOUT`) or its signal aborted
 * (`TABLES_WAIT_ABORTED`, the signal's reason as `cause`). `context.seq` is the seq waited for, `context.reached`
 * the db's seq then.
 */
export class TablesWaitError extends TablesError {
  override name = 'TablesWaitError'
  constructor(
    code: 'TABLES_WAIT_TIMEOUT' | 'TABLES_WAIT_ABORTED',
    message: string,
    context: TablesErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options)
  }
}

/**
 * Opening with `bootstrap` failed: the source could not be read or sent something that does not fit
 * (`TABLES_BOOTSTRAP`, the source's error as `cause`), or the directory holds an interrupted restore and no source
 * was given to finish it (`TABLES_RESTORE_INCOMPLETE`). Nothing the directory held before was deleted.
 */
export class TablesBootstrapError extends TablesError {
  override name = 'TablesBootstrapError'
  constructor(
    code: 'TABLES_BOOTSTRAP' | 'TABLES_RESTORE_INCOMPLETE',
    message: string,
    context: TablesErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options)
  }
}

/**
 * A check of the db's own invariants failed (`TABLES_INTERNAL`): a bug in @homedb/tables, not a problem of the input
 * or of the files. `context.invariant` names the check and the rest of `context` holds the values it saw. The
 * operation that met it stopped there; reopen the db to continue from what the log holds, and please report it.
 */
export class TablesInternalError extends TablesError {
  override name = 'TablesInternalError'
  constructor(message: string, context: TablesErrorContext) {
    super('TABLES_INTERNAL', message, context)
  }
}
