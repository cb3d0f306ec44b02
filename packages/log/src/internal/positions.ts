// The log's four positions and the order they keep. Every piece that moves a position goes through one of the
// transitions below, and each transition checks the order afterwards:
//
//     start.seq ≤ durable.seq ≤ written.seq ≤ head.seq
//
// - head: after the last append (in file mode possibly still in memory, waiting for the next batch);
// - written: after the last batch handed to the OS (other processes can read it);
// - durable: after the last batch that is as durable as the mode promises ('fsync': fdatasynced; 'os': written;
//   'memory': appended);
// - start: before the oldest commit the log still holds (older ones are only in snapshots).
//
// A read-only log has no appends of its own: what it has read is its head, written and durable at once.
import type { Position } from '../types.js'
import { chainToHex } from './format.js'
import { violated } from './invariant.js'

/** A position as the log computes with it (the public {@link Position} shows the chain in hex). */
export interface Point {
  readonly seq: number
  readonly chain: bigint
}

/** The positions of one log; see the file header for what each means. */
export class LogPositions {
  #headSeq: number
  #headChain: bigint
  #headCache: Position | undefined
  #written: Point
  #durable: Point
  #start: Point

  /** A log whose commits run from `start` (exclusive) to `head`, all durable. */
  constructor(start: Point, head: Point) {
    this.#start = start
    this.#headSeq = head.seq
    this.#headChain = head.chain
    this.#written = this.#durable = head
    this.#check('open')
  }

  get headSeq(): number {
    return this.#headSeq
  }

  get headChain(): bigint {
    return this.#headChain
  }

  get written(): Point {
    return this.#written
  }

  get durable(): Point {
    return this.#durable
  }

  get start(): Point {
    return this.#start
  }

  /** The head as the public API shows it (one frozen object per head, so repeated reads allocate nothing). */
  get head(): Position {
    this.#headCache ??= Object.freeze({ seq: this.#headSeq, chain: chainToHex(this.#headChain) })
    return this.#headCache
  }

  /** Appends moved the head to (`seq`, `chain`). Cheap: called once per append. */
  appended(seq: number, chain: bigint): void {
    if (seq <= this.#headSeq) violated('append-advances', { head: this.#headSeq, seq })
    this.#headSeq = seq
    this.#headChain = chain
    this.#headCache = undefined
  }

  /** A batch up to `to` reached the OS. */
  wrote(to: Point): void {
    if (to.seq < this.#written.seq) violated('written-advances', { written: this.#written.seq, to: to.seq })
    this.#written = to
    this.#check('write')
  }

  /** Everything up to `to` is as durable as the mode promises. */
  synced(to: Point): void {
    if (to.seq < this.#durable.seq) violated('durable-advances', { durable: this.#durable.seq, to: to.seq })
    this.#durable = to
    this.#check('sync')
  }

  /** Memory mode: an append up to `to` is written and durable at once. */
  stored(to: Point): void {
    if (to.seq < this.#written.seq) violated('written-advances', { written: this.#written.seq, to: to.seq })
    this.#written = this.#durable = to
    this.#check('store')
  }

  /** Read-only: the writer's commits up to `to` were read; head, written and durable all move there. */
  followed(to: Point): void {
    if (to.seq < this.#headSeq) violated('follow-advances', { head: this.#headSeq, to: to.seq })
    this.#setAll(to)
    this.#check('follow')
  }

  /**
   * Read-only: the writer released the segments the log was about to read, so it continues from the oldest segment
   * left, whose base `at` becomes start, head, written and durable at once.
   */
  restarted(at: Point): void {
    if (at.seq < this.#headSeq) violated('restart-advances', { head: this.#headSeq, at: at.seq })
    this.#start = at
    this.#setAll(at)
    this.#check('restart')
  }

  /** Commits up to `start` were released (compaction, or the writer's compaction seen by a follower). */
  released(start: Point): void {
    if (start.seq < this.#start.seq) violated('start-advances', { start: this.#start.seq, to: start.seq })
    this.#start = start
    this.#check('release')
  }

  #setAll(to: Point): void {
    this.#headSeq = to.seq
    this.#headChain = to.chain
    this.#headCache = undefined
    this.#written = this.#durable = to
  }

  #check(transition: string): void {
    const start = this.#start.seq
    const durable = this.#durable.seq
    const written = this.#written.seq
    const head = this.#headSeq
    if (start <= durable && durable <= written && written <= head) return
    violated('start≤durable≤written≤head', { transition, start, durable, written, head })
  }
}
