// What a UserDbs reports (status) and what its close achieved: public types in a file of their own so the pool
// behind it (internal/user-db-pool.ts) can fill them in without importing user-dbs.ts, which builds the pool.

/** What `UserDbs.status()` reports. */
export interface UserDbsStatus {
  /** Dbs open now. */
  readonly open: number
  /** Users closed with commits their home has not acknowledged yet (shipped in the background). */
  readonly pending: readonly string[]
  /** The open users with their shipper's state and lag. */
  readonly users: readonly { readonly user: string; readonly state: string; readonly lagCommits: number }[]
}

/** What `UserDbs.close()` achieved. */
export interface UserDbsCloseReport {
  /** Users whose every commit reached their home. */
  readonly delivered: readonly string[]
  /** Users that still hold unshipped commits on disk (shipped by the next `openUserDbs` on this dir). */
  readonly undelivered: readonly string[]
}
