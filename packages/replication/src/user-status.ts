// One user as a home's status lists it (HomeService.users, the admin status endpoint, the operator page): a public
// type in a file of its own so the pieces that fill it in (internal/, ui/) do not import home-service.ts.
import type { LogPosition } from './position.js'

/** One user as the status lists it. */
export interface UserStatus {
  readonly name: string
  /** `active`, `frozen` (a move's source), `reserved` (a move's target) or `moved` (see PROTOCOL.md). */
  readonly state: 'active' | 'frozen' | 'reserved' | 'moved'
  readonly epoch: number
  /** `moved`: where the user lives now. */
  readonly movedTo?: { readonly home: string; readonly epoch: number }
  /** A move in flight here: its id, the other home, and (target) the copy's progress. */
  readonly move?: {
    readonly id: string
    readonly role: 'source' | 'target'
    readonly other?: string
    readonly copiedBytes?: number
    readonly head?: LogPosition | null
    readonly sourceHead?: LogPosition | null
  }
  readonly generation: number
  /** Last head seen since the server started (null if the log was not touched since). */
  readonly head: LogPosition | null
  readonly snapshot: { readonly seq: number; readonly bytes: number } | null
  readonly slots: readonly {
    readonly name: string
    readonly seq: number
    readonly lag: number | null
    readonly confirmedAt: number
  }[]
}
