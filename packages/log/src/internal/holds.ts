// Retention holds (FORMAT.md › Retention holds): named seqs after which commits must be kept however far
// compaction could release (replication slots). Files and memory mode release by the same rule.
import { LogSnapshotError } from '../errors.js'

/** The holds of one log. */
export class Holds {
  readonly #bySeq = new Map<string, number>()

  /** Keeps commits after `seq` until `release(name)`; a second hold of the same name replaces the first. */
  hold(name: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw new LogSnapshotError(`hold seq must be a non-negative integer, got ${seq}`, { name, seq })
    this.#bySeq.set(name, seq)
  }

  release(name: string): void {
    this.#bySeq.delete(name)
  }

  /** The seq after which commits must be kept: the snapshot's, or an older one a hold still needs. */
  keepAfter(snapshotSeq: number): number {
    let keep = snapshotSeq
    for (const seq of this.#bySeq.values()) keep = Math.min(keep, seq)
    return keep
  }
}
