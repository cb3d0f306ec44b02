// Errors of @homedb/replication: one root class with a stable string `code` and context, a subclass per category.
// Wire answers (the `code` field of an error body, see PROTOCOL.md) are a separate, lower-case vocabulary.
import type { HomingErrorCode } from './homing-error-code.js'

/** Stable error codes of @homedb/replication. */
export type ReplicationErrorCode =
  | 'REPLICATION_BAD_POSITION'
  | 'REPLICATION_CONFIG'
  | 'REPLICATION_BAD_USER'
  | 'REPLICATION_USER_EXISTS'
  | 'REPLICATION_NO_USER'
  | 'REPLICATION_QUOTA'
  | 'REPLICATION_AUTH'
  | 'REPLICATION_PROTOCOL'
  | 'REPLICATION_HOME'
  | 'REPLICATION_DIVERGED'
  | 'REPLICATION_INCOMPATIBLE'
  | 'REPLICATION_LOOP'
  | 'REPLICATION_CLOSED'
  | HomingErrorCode

/**
 * Root of every error thrown by @homedb/replication. Catch this to catch them all; switch on `code`.
 *
 * @example
 * ```ts
 * try { await shipper.flushed() } catch (e) { if (e instanceof ReplicationError) console.log(e.code, e.context) }
 * ```
 */
export class ReplicationError extends Error {
  override name = 'ReplicationError'
  readonly code: ReplicationErrorCode
  readonly context: Record<string, unknown>
  constructor(
    code: ReplicationErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
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

/**
 * Invalid options or arguments (`REPLICATION_CONFIG`, e.g. a token shorter than 16 characters), a user name
 * outside the documented charset (`REPLICATION_BAD_USER`), a user that already exists (`REPLICATION_USER_EXISTS`)
 * or does not (`REPLICATION_NO_USER`), or a home at its user quota (`REPLICATION_QUOTA`). Nothing was changed.
 */
export class ReplicationConfigError extends ReplicationError {
  override name = 'ReplicationConfigError'
  constructor(
    code:
      | 'REPLICATION_CONFIG'
      | 'REPLICATION_BAD_USER'
      | 'REPLICATION_USER_EXISTS'
      | 'REPLICATION_NO_USER'
      | 'REPLICATION_QUOTA',
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(code, message, context)
  }
}

/**
 * The home answered with an error (`REPLICATION_HOME`, `context.status` and `context.wire` hold the HTTP status and
 * the wire code), refused the token (`REPLICATION_AUTH`), or sent something that does not follow the protocol
 * (`REPLICATION_PROTOCOL`: a bad header, a frame whose CRC or chain does not check out, a truncated body).
 */
export class ReplicationRemoteError extends ReplicationError {
  override name = 'ReplicationRemoteError'
  constructor(
    code: 'REPLICATION_HOME' | 'REPLICATION_AUTH' | 'REPLICATION_PROTOCOL',
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options)
  }
}

/**
 * A client stopped for good: the histories forked (`REPLICATION_DIVERGED`), the home holds another log
 * (`REPLICATION_INCOMPATIBLE`), the same answer came back at the same position too many times
 * (`REPLICATION_LOOP`), or the client was closed (`REPLICATION_CLOSED`). Local data is never discarded.
 */
export class ReplicationStoppedError extends ReplicationError {
  override name = 'ReplicationStoppedError'
  constructor(
    code: 'REPLICATION_DIVERGED' | 'REPLICATION_INCOMPATIBLE' | 'REPLICATION_LOOP' | 'REPLICATION_CLOSED',
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(code, message, context)
  }
}
