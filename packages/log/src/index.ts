// Public surface of @homedb/log. Everything not listed here is internal.
export {
  LogConfigError,
  LogCorruptionError,
  LogError,
  type LogErrorCode,
  type LogErrorContext,
  LogFailedError,
  LogInputError,
  LogInternalError,
  LogIOError,
  LogLockedError,
  LogReadError,
  LogSnapshotError,
  LogStateError,
} from './errors.js'
export { type FileHandleLike, type FileLayer, nodeFileLayer, type OpenMode, type OpenOptions } from './file-layer.js'
export { openLog } from './open-log.js'
export {
  type Commit,
  type Durability,
  type EncodedCommit,
  GENESIS,
  type Log,
  type OpenLogOptions,
  type Position,
  type RecoveryReport,
  type Snapshot,
  type SnapshotData,
  type SnapshotInfo,
} from './types.js'
export { type LogDamage, type VerifyReport, verifyLog } from './verify-log.js'
