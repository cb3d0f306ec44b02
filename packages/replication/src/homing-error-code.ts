// The error codes the homing layer (directory, redirects, moves) adds, in a file of their own so errors.ts can list
// them in ReplicationErrorCode without importing the classes that extend its root error.

/** The codes the homing layer adds to `ReplicationErrorCode`. */
export type HomingErrorCode =
  | 'REPLICATION_DIRECTORY'
  | 'REPLICATION_UNKNOWN_USER'
  | 'REPLICATION_MOVE'
  | 'REPLICATION_MOVED'
  | 'REPLICATION_BUSY'
