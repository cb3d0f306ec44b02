// Public surface of @homedb/replication. Everything not listed here is internal.
export type { AcceptedAppend } from './accepted-append.js'
export type { ClientOptions } from './client-options.js'
export { type Clock, systemClock } from './clock.js'
export type {
  Directory,
  DirectoryChange,
  DirectoryEntry,
  DirectoryMove,
  DirectoryOption,
  DirectoryUpdate,
  DirectoryWatchOptions,
  EtcdDirectoryOptions,
  OpenDirectoryOptions,
} from './directory.js'
export { type DirectoryServer, type DirectoryServerOptions, startDirectory } from './directory-server.js'
export { DirectoryService, type DirectoryServiceOptions } from './directory-service.js'
export {
  BadPositionError,
  ReplicationConfigError,
  ReplicationError,
  type ReplicationErrorCode,
  ReplicationRemoteError,
  ReplicationStoppedError,
} from './errors.js'
export type { HomeLimitOptions, RateLimitOptions } from './home-limits.js'
export { type HomeServer, type HomeServerOptions, startHomeServer } from './home-server.js'
export { HomeService } from './home-service.js'
export type { HomeServiceOptions } from './home-service-options.js'
export { type HomeSourceOptions, homeSource } from './home-source.js'
export type { HomingErrorCode } from './homing-error-code.js'
export { DirectoryError, MoveError, UserStateError } from './homing-errors.js'
export type { HttpServerOptions, TlsOptions } from './http-server-options.js'
export { type HttpTransportOptions, httpTransport } from './http-transport.js'
export type { MoveProgress, MoveResult } from './move-report.js'
export { type MoveUserOptions, moveUser } from './move-user.js'
export { openDirectory } from './open-directory.js'
export type { OperatorUiOptions, UiActionLog } from './operator-ui-options.js'
export {
  headPosition,
  type LogPosition,
  type PositionedLog,
  type PositionRelation,
  parsePosition,
  relatePosition,
} from './position.js'
export { cryptoRandom, type Random } from './random.js'
export { openReplica, type ReplicaOptions, replicaStatus } from './replica.js'
export type { ReplicaStatus } from './replica-status.js'
export type { RetryPolicy } from './retry-policy.js'
export { type ShipOptions, type Shipper, ship } from './ship.js'
export type { ShipperNotice, ShipperStatus } from './shipper-status.js'
export {
  REPLICA_TRANSITIONS,
  type ReplicaEvent,
  type ReplicaState,
  SHIPPER_TRANSITIONS,
  type ShipperEvent,
  type ShipperState,
} from './state-machines.js'
export type { TokenSource } from './token-source.js'
export type { Transport, TransportRequest, TransportResponse } from './transport.js'
export { openUserDbs, type UserDbs } from './user-dbs.js'
export type { UserDbsOptions } from './user-dbs-options.js'
export type { UserDbsCloseReport, UserDbsStatus } from './user-dbs-status.js'
export type { UserStatus } from './user-status.js'
export {
  CONTENT_TYPES,
  HEADERS,
  type Route,
  WIRE_ERROR_CODES,
  type WireErrorCode,
  type WireRequest,
  type WireResponse,
} from './wire.js'
