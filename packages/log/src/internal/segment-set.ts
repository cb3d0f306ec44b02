// The segments a log holds, oldest first; the last one is the active segment (being written, or followed). Group
// commit adds one at each roll, retention drops released ones from the front, a follower adds or jumps. Each change
// checks that numbers increase and base seqs never go back.
import { segmentFileName } from './format.js'
import { invariant } from './invariant.js'

/** A segment file as the log knows it: its number and the position before its first commit. */
export interface SegmentRef {
  readonly number: number
  readonly name: string
  readonly baseSeq: number
  readonly baseChain: bigint
}

/** The ref of segment `number`, which starts after (`baseSeq`, `baseChain`). */
export function segmentRef(number: number, baseSeq: number, baseChain: bigint): SegmentRef {
  return { number, name: segmentFileName(number), baseSeq, baseChain }
}

/** A non-empty list of segments, oldest first. */
export class SegmentSet {
  #list: readonly SegmentRef[]

  constructor(list: readonly SegmentRef[]) {
    this.#list = list
    this.#check('open')
  }

  /** Every segment, oldest first. */
  get all(): readonly SegmentRef[] {
    return this.#list
  }

  get first(): SegmentRef {
    return this.#list[0]!
  }

  /** The last segment: the one being written (or followed). */
  get active(): SegmentRef {
    return this.#list[this.#list.length - 1]!
  }

  isActive(segment: SegmentRef): boolean {
    return this.active.number === segment.number
  }

  /** The segment a read from `seq` starts in: the last one whose base is at or before `seq` (else the first). */
  containing(seq: number): SegmentRef {
    let found = this.first
    for (const s of this.#list) if (s.baseSeq <= seq) found = s
    return found
  }

  /** The next segment still listed after segment `number` (by number: the list may have shrunk meanwhile). */
  after(number: number): SegmentRef | undefined {
    return this.#list.find((s) => s.number > number)
  }

  /** A roll created `next` after the active segment. */
  rolled(next: SegmentRef): void {
    this.#list = [...this.#list, next]
    this.#check('roll')
  }

  /** Read-only: the log jumped to `only`, the oldest segment the writer left. */
  jumped(only: SegmentRef): void {
    invariant(only.number > this.active.number, 'jump-forward', () => ({ from: this.active.number, to: only.number }))
    this.#list = [only]
  }

  /** Drops the segments `keep` says no to; the active segment always stays. Returns what was dropped. */
  release(keep: (segment: SegmentRef) => boolean): SegmentRef[] {
    const dropped = this.#list.filter((s) => s !== this.active && !keep(s))
    if (dropped.length > 0) this.#list = this.#list.filter((s) => !dropped.includes(s))
    this.#check('release')
    return dropped
  }

  #check(transition: string): void {
    const list = this.#list
    invariant(list.length > 0, 'segments-non-empty', () => ({ transition }))
    for (let i = 1; i < list.length; i++) {
      const [prev, next] = [list[i - 1]!, list[i]!]
      invariant(next.number > prev.number && next.baseSeq >= prev.baseSeq, 'segments-ordered', () => ({
        transition,
        previous: prev.name,
        previousBase: prev.baseSeq,
        next: next.name,
        nextBase: next.baseSeq,
      }))
    }
  }
}
