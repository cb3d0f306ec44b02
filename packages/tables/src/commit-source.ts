// Where a db's state comes from when it is not the writer of its own log: a snapshot, then commits in seq order.
// `@homedb/log`'s `Log` is one (read-only followers, point-in-time opens); replication implements one over the network.

/** A snapshot a db can load: its seq, size and chunks. `@homedb/log`'s `Snapshot` is one. */
export interface SnapshotSource {
  readonly seq: number
  readonly bytes: number
  chunks(): AsyncIterable<Uint8Array>
}

/**
 * Where a db's commits come from: a snapshot, then commits in seq order. `@homedb/log`'s `Log` is one
 * (read-only followers use a `readOnly` log); replication implements it over the network.
 */
export interface CommitSource {
  /** Position before the oldest commit the source still holds. */
  readonly start: { readonly seq: number }
  latestSnapshot(): Promise<SnapshotSource | undefined>
  /** Commits with seq > `from` that exist now, then stops. */
  read(options: { from: number }): AsyncIterable<{ readonly seq: number; readonly payload: Uint8Array }>
  /**
   * Optional: the same commits as {@link read}, in batches (one await per batch instead of one per commit). An open
   * uses it when the source has it, as `@homedb/log`'s `Log` does.
   */
  readBatches?(options: {
    from: number
  }): AsyncIterable<readonly { readonly seq: number; readonly payload: Uint8Array }[]>
  /** Commits with seq > `from`, then waits for new ones until `signal` aborts or the source ends. */
  tail(options: {
    from: number
    signal: AbortSignal
  }): AsyncIterable<{ readonly seq: number; readonly payload: Uint8Array }>
}
