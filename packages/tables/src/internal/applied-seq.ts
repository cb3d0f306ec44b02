// The seq of the last commit a db applied in memory, and the only two ways it moves: by one, as each commit is
// applied (written by this db, replayed at open, or followed), or to a snapshot's seq when the whole state is
// replaced (a load, a follower's reload, or 0 when a follower starts over). Both moves are checked (invariant.ts):
// the seq of a db is always the seq of the commit its tables hold the state after.
import { violated } from './invariant.js'

/** The seq a db's tables are at; see the file header. */
export class AppliedSeq {
  #value = 0

  /** Seq of the last commit applied in memory (0 before any). */
  get value(): number {
    return this.#value
  }

  /** Commit `seq` was applied on top of the state: it must be the next one. Cheap: called once per commit. */
  advance(seq: number): void {
    if (seq !== this.#value + 1) violated('seq-advances-by-one', { seq: this.#value, applied: seq })
    this.#value = seq
  }

  /** The state was replaced by the state at `seq` (a snapshot's seq, or 0 for an empty state). */
  replaced(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) violated('seq-is-a-seq', { seq: this.#value, replacedBy: seq })
    this.#value = seq
  }
}
