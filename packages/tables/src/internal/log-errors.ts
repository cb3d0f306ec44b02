// How errors of @homedb/log reach the user of a db: as TablesErrors of the right category, with the log error as
// `cause` and its code in `context.logCode`, so code catching TablesError catches everything a db throws.
import { TablesConfigError, TablesError, TablesInputError, TablesLogError, TablesStateError } from '../errors.js'

/** Turns an error from `@homedb/log` into a TablesError with the log error as `cause` (a TablesError passes as is). */
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
