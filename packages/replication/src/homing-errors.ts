// Errors of the homing layer (directory, redirects, moves): subclasses of ReplicationError, kept in their own file
// next to the codes they add (homing-error-code.ts).
import { ReplicationError } from './errors.js'

/**
 * The directory could not answer (`REPLICATION_DIRECTORY`: unreachable, or it refused the request; `context.status`
 * and `context.wire` hold what it said) or does not know the user (`REPLICATION_UNKNOWN_USER`).
 *
 * @example
 * ```ts
 * const directory = openDirectory(directoryUrl) // no admin token: it may look users up, nothing else
 * try {
 *   await directory.register('carol', 'http://127.0.0.1:7101')
 * } catch (e) {
 *   if (e instanceof DirectoryError) console.log(e.code, e.context.status) // -> 'REPLICATION_DIRECTORY', 401
 * }
 * await directory.close()
 * ```
 */
export class DirectoryError extends ReplicationError {
  override name = 'DirectoryError'
  constructor(
    code: 'REPLICATION_DIRECTORY' | 'REPLICATION_UNKNOWN_USER',
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, context, options)
  }
}

/**
 * A move did not happen (`REPLICATION_MOVE`). `context.step` names the step that failed, `context.outcome` says what
 * is true now: `'aborted'` (the source serves the user as before: nothing changed) or `'unknown'` (the directory
 * could not be read after its compare-and-set: the source stays frozen until its lease expires, then asks the
 * directory and either takes the user back or answers `moved`, never both).
 */
export class MoveError extends ReplicationError {
  override name = 'MoveError'
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('REPLICATION_MOVE', message, context, options)
  }
}

/**
 * An operation on a user that this home does not serve in its present state: the user moved to another home
 * (`REPLICATION_MOVED`: `context.home` and `context.epoch` say where; do it there), or a move holds it for a moment
 * (`REPLICATION_BUSY`: frozen as a move's source or reserved as its target; try again shortly). Nothing changed.
 *
 * @example
 * ```ts
 * try {
 *   await server.rotateToken('alice') // refused while a move holds alice, or after she left this home
 * } catch (e) {
 *   if (e instanceof UserStateError) console.log(e.code, e.context)
 * }
 * ```
 */
export class UserStateError extends ReplicationError {
  override name = 'UserStateError'
  constructor(code: 'REPLICATION_MOVED' | 'REPLICATION_BUSY', message: string, context: Record<string, unknown> = {}) {
    super(code, message, context)
  }
}
