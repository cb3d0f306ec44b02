// What the home's handlers and service use of its link to the deployment's directory (HomeHoming, home-homing.ts) and
// of the move copies it runs (CopyJob, move-copy.ts): declared here so HomeContext holds the link without importing
// those modules, which are built on HomeContext.
import type { Log } from '@homedb/log'
import type { Directory, DirectoryEntry } from '../directory.js'
import type { LogPosition } from '../position.js'
import type { Transport } from '../transport.js'
import type { CopyProgress, CopyVerdict } from './copy-progress.js'
import type { UserRecord } from './meta-store.js'

/** Settings of the link (HomeServiceOptions with defaults applied). */
export interface HomingSettings {
  readonly directory: Directory
  /** Close the directory client with the home (the home opened it). */
  readonly ownsDirectory: boolean
  readonly publicUrl: string | undefined
  readonly maxLeaseMs: number
  readonly movedRetentionMs: number
  readonly reconcileIntervalMs: number
  /** A reservation whose copy no mover asked about for this long (and never reached a frozen head) is dropped. */
  readonly reservationIdleMs: number
  /** How the home reaches other homes (a target reads its source). */
  readonly transport: Transport
  /** Close the transport with the home (the home made it). */
  readonly ownsTransport: boolean
}

/** What settling a reserved user decided: it is active here now, or it lives at that entry's home. */
export type Settled = 'active' | DirectoryEntry | undefined

/** What the handlers use of a move's copy job (CopyJob). */
export interface CopyJobHandle {
  /** When a mover last asked about this copy (its status, a wait): a copy nobody asks about is orphaned. */
  lastAsked: number
  /** Set once a wait answered `reached`: from then on a mover may switch the directory to this copy. */
  reached: boolean
  /** The copy's log while the job holds it open. */
  readonly log: Log | undefined
  progress(): CopyProgress
  /** How the copy relates to `position` once it reached it, or `timeoutMs` passed. */
  waitFor(position: LogPosition | null, timeoutMs: number): Promise<CopyVerdict>
  stop(): Promise<void>
}

/** What the handlers and the service use of the home's homing link (HomeHoming). */
export interface HomingLink {
  /** The URL the directory names this home by (set when the server listens, or `publicUrl`). */
  readonly url: string | undefined
  /** Copy jobs of the users reserved here (a move's target), by user. */
  readonly jobs: Map<string, CopyJobHandle>
  readonly settings: HomingSettings
  readonly directory: Directory
  /** Starts watching and reconciling, once the home listens at `url`. */
  start(url: string): void
  /** Registers a user added here in the directory. */
  register(user: string): Promise<void>
  /** Settles a reserved user against the directory now. */
  settleReserved(user: string): Promise<Settled>
  /** Ends a reservation (caller holds the user's lock); true if it activated. */
  abandon(user: string, record: UserRecord, entry: DirectoryEntry | undefined): Promise<boolean>
  /** Arms the lease timer of a frozen user. */
  scheduleLease(user: string, freeze: { readonly moveId: string; readonly until: number }): void
  cancelLease(user: string): void
  close(): Promise<void>
}
