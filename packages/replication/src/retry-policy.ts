// How the shipper and the replica pace their retries and detect loops (PROTOCOL.md, "Shipper" and "Replica").

/** Backoff and loop-detection settings (PROTOCOL.md documents the defaults). */
export interface RetryPolicy {
  /** First delay, ms. Default 50. */
  readonly baseMs: number
  /** Longest delay, ms. Default 5 000. */
  readonly maxMs: number
  /** The same answer at the same position this many times in a row starts escalating. Default 3. */
  readonly loopThreshold: number
  /** … and this many times is a REPLICATION_LOOP error. Default 12. */
  readonly loopLimit: number
}
