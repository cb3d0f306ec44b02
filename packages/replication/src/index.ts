// Public surface of @homedb/replication.
export { BadPositionError, ReplicationError, type ReplicationErrorCode } from './errors.js'
export { headPosition, type LogPosition, type PositionRelation, parsePosition, relatePosition } from './position.js'
