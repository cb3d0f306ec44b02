// Errors of @homedb/log: one root class, a subclass per category, a stable string `code` and the context to act on.

/** Context carried by log errors: where in the log the problem is. */
export interface LogErrorContext {
  /** Log directory. */
  dir?: string | undefined
  /** File the problem is in (segment, snapshot or lock file). */
  file?: string | undefined
  /** Byte offset inside `file`. */
  offset?: number
  /** Sequence number involved (last good seq, expected seq, …). */
  seq?: number
  /** Anything else worth knowing. */
  [key: string]: unknown
}

/** Stable error codes of @homedb/log. */
export type LogErrorCode =
  | 'LOG_CONFIG'
  | 'LOG_LOCKED'
  | 'LOG_CORRUPT'
  | 'LOG_FAILED'
  | 'LOG_CLOSED'
  | 'LOG_READ_ONLY'
  | 'LOG_FRAME_TOO_LARGE'
  | 'LOG_BAD_FRAME'
  | 'LOG_POSITION_MISMATCH'
  | 'LOG_SNAPSHOT'
  | 'LOG_NEED_SNAPSHOT'
  | 'LOG_IO'
  | 'LOG_INTERNAL'

/**
 * Root of every error thrown by @homedb/log. Catch this to catch them all; switch on `code`.
 *
 * @example
 * ```ts
 * try { await openLog(dir) } catch (e) { if (e instanceof LogError && e.code === 'LOG_LOCKED') console.log(e.context) }
 * ```
 */
export class LogError extends Error {
  override name = 'LogError'
  readonly code: LogErrorCode
  readonly context: LogErrorContext
  constructor(code: LogErrorCode, message: string, context: LogErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.context = context
  }
}

/** Invalid options or arguments (bad `durability`, `segmentBytes`, position, a `read` from a negative seq, …). */
export class LogConfigError extends LogError {
  override name = 'LogConfigError'
  constructor(message: string, context: LogErrorContext = {}) {
    super('LOG_CONFIG', message, context)
  }
}

/** Another writer holds the directory's lock file. `context.holder` names it. */
export class LogLockedError extends LogError {
  override name = 'LogLockedError'
  constructor(message: string, context: LogErrorContext) {
    super('LOG_LOCKED', message, context)
  }
}

/** Damage found where data was known durable (or in a sealed segment): refuses a writable open. */
export class LogCorruptionError extends LogError {
  override name = 'LogCorruptionError'
  constructor(message: string, context: LogErrorContext) {
    super('LOG_CORRUPT', message, context)
  }
}

/** The log failed an I/O operation and stopped accepting writes (fail-stop); reopen to continue. */
export class LogFailedError extends LogError {
  override name = 'LogFailedError'
  constructor(message: string, context: LogErrorContext, cause?: unknown) {
    super('LOG_FAILED', message, context, { cause })
  }
}

/** The log is closed, or was opened read-only and a write was attempted. */
export class LogStateError extends LogError {
  override name = 'LogStateError'
  constructor(code: 'LOG_CLOSED' | 'LOG_READ_ONLY', message: string, context: LogErrorContext = {}) {
    super(code, message, context)
  }
}

/** Input that cannot be appended: a payload over the frame limit, or a received frame that fails CRC, seq or chain checks. */
export class LogInputError extends LogError {
  override name = 'LogInputError'
  constructor(
    code: 'LOG_FRAME_TOO_LARGE' | 'LOG_BAD_FRAME' | 'LOG_POSITION_MISMATCH',
    message: string,
    context: LogErrorContext = {},
  ) {
    super(code, message, context)
  }
}

/**
 * A read asked for commits the log no longer holds: compaction released the segments after a snapshot
 * (`LOG_NEED_SNAPSHOT`). Load `latestSnapshot()` and read on from its seq. `context.from` is the seq asked for,
 * `context.start` where the log's commits now begin.
 */
export class LogReadError extends LogError {
  override name = 'LogReadError'
  constructor(message: string, context: LogErrorContext = {}) {
    super('LOG_NEED_SNAPSHOT', message, context)
  }
}

/** A snapshot could not be written or read (bad `atSeq`, missing or torn file). */
export class LogSnapshotError extends LogError {
  override name = 'LogSnapshotError'
  constructor(message: string, context: LogErrorContext = {}) {
    super('LOG_SNAPSHOT', message, context)
  }
}

/**
 * A file operation failed while opening, reading, following or verifying the log (`EIO`, `EACCES`, `EMFILE`, …).
 * Nothing was written because of it, and the log stays usable: retry, or reopen once the cause is fixed. A failed
 * write or fsync is {@link LogFailedError} instead. `context.osCode` is the system's code, `context.operation`
 * what the log was doing, and `cause` the original error.
 */
export class LogIOError extends LogError {
  override name = 'LogIOError'
  constructor(message: string, context: LogErrorContext, cause: unknown) {
    super('LOG_IO', message, context, { cause })
  }
}

/**
 * A bug in @homedb/log: one of the invariants the log checks after each change of its positions failed
 * (`context.invariant` names it, the rest of the context holds the values). A writable log stops (fail-stop, with
 * this error as the cause); a read-only log reports it through `onError`. Please report it with the context.
 */
export class LogInternalError extends LogError {
  override name = 'LogInternalError'
  constructor(message: string, context: LogErrorContext) {
    super('LOG_INTERNAL', message, context)
  }
}
