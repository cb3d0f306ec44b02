// Errors of @homedb/replication: one root class with a stable string `code` and context.

/** Stable error codes of @homedb/replication. */
export type ReplicationErrorCode = 'REPLICATION_BAD_POSITION'

/** Root of every error thrown by @homedb/replication. */
export class ReplicationError extends Error {
  override name = 'ReplicationError'
  readonly code: ReplicationErrorCode
  readonly context: Record<string, unknown>
  constructor(code: ReplicationErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message)
    this.code = code
    this.context = context
  }
}

/** A position that is not `{ logId: 32 hex, seq: non-negative integer, chain: 16 hex }`. */
export class BadPositionError extends ReplicationError {
  override name = 'BadPositionError'
  constructor(message: string, context: Record<string, unknown>) {
    super('REPLICATION_BAD_POSITION', message, context)
  }
}
