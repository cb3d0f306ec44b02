// The limits a home puts on what one user, one token or one client may cost it (users, concurrent tails, replica
// slots, request rate), as options of HomeService/startHomeServer. Each has a documented default and a stable
// wire code when it refuses (PROTOCOL.md, "Limits").

/** A token bucket per credential: `perSecond` requests refill it, `burst` is its size. */
export interface RateLimitOptions {
  /** Sustained requests per second per token (and per client address for requests without a token). */
  readonly perSecond: number
  /** Requests that may come at once before the rate applies. */
  readonly burst: number
}

/** Limits on users, tails, slots and request rate (defaults in PROTOCOL.md, "Limits"). */
export interface HomeLimitOptions {
  /** Users this home accepts (`addUser` past it: `REPLICATION_QUOTA`, `403 quota`). Default 100 000. */
  readonly maxUsers?: number
  /** Long-polls waiting at once for one user (`429 too-many-tails`). Default 32. */
  readonly maxTailsPerUser?: number
  /** Long-polls waiting at once on the whole server (`429 too-many-tails`). Default 10 000. */
  readonly maxTails?: number
  /**
   * Replica slots per user; a new slot past it replaces the one confirmed least recently (whose replica later
   * reloads from a snapshot, never a silent gap). Default 16.
   */
  readonly maxSlotsPerUser?: number
  /** Requests per token (`429 rate-limited` with `Retry-After`); `false` turns it off. Default 5 000/s, burst 10 000. */
  readonly rateLimit?: RateLimitOptions | false
}
