// What a replica reports (replicaStatus): a public type in a file of its own so the replica's engine
// (internal/home-commit-source.ts) can fill it in without importing replica.ts, which builds it.
import type { LogPosition } from './position.js'
import type { ReplicaState } from './state-machines.js'

/** What `replicaStatus(replica)` reports. */
export interface ReplicaStatus {
  readonly state: ReplicaState
  /** The seq of the last commit handed to the db. */
  readonly seq: number
  /**
   * Where the db is: the position (logId, seq, chain) of the last commit or snapshot handed to it, every frame's
   * chain verified on the way; null before the first load. Equal to the writer's head once it caught up.
   */
  readonly position: LogPosition | null
  /** The home's head as last seen. */
  readonly homeHead: LogPosition | null
  readonly lastError: Error | undefined
}
