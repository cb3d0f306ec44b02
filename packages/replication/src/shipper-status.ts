// What a shipper reports (its status) and tells its listeners (notices): public types in a file of their own so the
// shipper's engine (internal/shipper-core.ts) can use them without importing ship.ts, which builds it.
import type { ReplicationError } from './errors.js'
import type { LogPosition } from './position.js'
import type { ShipperState } from './state-machines.js'

/** What a shipper reports. */
export interface ShipperStatus {
  readonly state: ShipperState
  /** The last seq the home acknowledged (durable there). */
  readonly ackedSeq: number
  /** Commits made locally that the home has not acknowledged yet. */
  readonly lagCommits: number
  /** The last error met (a dropped connection, a refused answer), if any since the last success. */
  readonly lastError?: ReplicationError | Error
  /** The home's head as last seen (after `diverged`: where the home is; the local frames after `ackedSeq` are kept). */
  readonly homeHead?: LogPosition | null
}

/** What a shipper tells its listeners. */
export type ShipperNotice =
  | { readonly type: 'state'; readonly from: ShipperState; readonly to: ShipperState; readonly status: ShipperStatus }
  | { readonly type: 'acked'; readonly seq: number }
  | { readonly type: 'snapshot'; readonly seq: number; readonly base: boolean }
