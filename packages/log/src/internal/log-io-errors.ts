// Turns a system error met while reading (open, read, readdir, stat …) into a typed LogIOError, so every error the
// log throws is a LogError with a code; its own errors and programming errors pass through unchanged.
import { LogError, type LogErrorContext, LogIOError } from '../errors.js'

/** `error` as thrown by the log: a LogError as is, a system error (a string `code`) as a LogIOError. */
export function asLogError(error: unknown, operation: string, context: LogErrorContext): unknown {
  if (error instanceof LogError) return error
  const osCode = (error as { code?: unknown } | null)?.code
  if (typeof osCode !== 'string') return error
  const message = (error as Error).message ?? String(error)
  return new LogIOError(`${operation} failed: ${message}`, { ...context, operation, osCode }, error)
}
