// Where reads can resume inside a segment: after a read has verified a commit frame, the offset just past it with
// its seq and chain is a safe place for a later read to start scanning (the chain from the segment's base up to it
// was checked). Without them every read of the newest commits rescans the active segment from its header, which
// made a shipper that reads the last few commits again and again cost O(segment) per read.

/** A verified place inside a segment: the frames from `offset` on follow (`seq`, `chain`). */
export interface ReadCheckpoint {
  readonly seq: number
  readonly chain: bigint
  readonly offset: number
}

/** Checkpoints of a few recent segments. */
export class ReadCheckpoints {
  /** Segments remembered (the most recently first-read ones). */
  static readonly SEGMENTS = 8
  /** Besides the newest one, only checkpoints at seqs divisible by this are kept, so a list stays small. */
  static readonly EVERY = 64
  readonly #bySegment = new Map<number, ReadCheckpoint[]>()

  /**
   * Records that the frames of segment `number` from `offset` on follow (`seq`, `chain`). Invariant: each list is
   * sorted by seq, and every entry but the last has a seq divisible by {@link ReadCheckpoints.EVERY}.
   */
  record(number: number, seq: number, chain: bigint, offset: number): void {
    let list = this.#bySegment.get(number)
    if (list === undefined) {
      list = []
      this.#bySegment.set(number, list)
      if (this.#bySegment.size > ReadCheckpoints.SEGMENTS) this.#bySegment.delete(this.#bySegment.keys().next().value!)
    }
    const last = list[list.length - 1]
    if (last !== undefined && last.seq >= seq) return
    if (last !== undefined && last.seq % ReadCheckpoints.EVERY !== 0) list.pop()
    list.push({ seq, chain, offset })
  }

  /** The latest checkpoint of segment `number` at or before `seq`, if one is known. */
  find(number: number, seq: number): ReadCheckpoint | undefined {
    const list = this.#bySegment.get(number)
    if (list === undefined) return undefined
    let found: ReadCheckpoint | undefined
    for (let lo = 0, hi = list.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1
      if (list[mid]!.seq <= seq) {
        found = list[mid]
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }
}
