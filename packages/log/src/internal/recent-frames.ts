// The newest written batches of a writable log, kept in memory so that a read of what was just written needs no file
// I/O. The reader that profits is the one that keeps reading at the head: a shipper sending each batch to its home as
// soon as it is durable (an open, a read and a close of the segment, three threadpool round trips, were a third of
// each shipping cycle), a `tail()`. Reads further back go to the files as before.
//
// Copying each batch costs: a log nobody reads at the head (a bulk load, an app that never ships) should not pay it.
// So batches are kept only while reads come (within `ARMED_MS` of the last read asked of it); the first read after a
// quiet spell goes to the files, as every read did before.
//
// What it may assume: batches are added in seq order, each once it was written, and each batch's bytes are the frames
// exactly as written (a marker first, a seal last, perhaps). What it guarantees: a read it answers returns exactly
// the commits the files hold for that range, or it answers nothing (`undefined`) and the files are read.
import { chainToHex, FrameType } from './format.js'
import { decodeFrame } from './frame-codec.js'
import type { ReadCommit } from './log-parts.js'

/** How long after a read batches are still kept, ms. */
export const ARMED_MS = 1000

interface Batch {
  /** The seq before the batch's first commit. */
  readonly after: number
  /** The seq of its last commit. */
  readonly last: number
  /** A copy of the batch as written. */
  readonly bytes: Buffer
}

/** See the file header. */
export class RecentFrames {
  readonly #maxBytes: number
  readonly #now: () => number
  #batches: Batch[] = []
  #bytes = 0
  /** Batches are kept until then (`#now()` time): a read asked for commits not long ago. */
  #armedUntil = Number.NEGATIVE_INFINITY

  /** `maxBytes`: bytes of batches kept at most (the oldest go first; a bigger batch is not kept). */
  constructor(maxBytes: number, now: () => number = performance.now.bind(performance)) {
    this.#maxBytes = maxBytes
    this.#now = now
  }

  /**
   * Keeps a copy of a batch just written: `bytes` as written, holding the commits after `after` up to `last`, if a
   * read came within `ARMED_MS` (else everything kept is dropped). A batch without commits (a lone seal) changes
   * nothing; one that does not continue the kept ones replaces them.
   */
  add(bytes: Uint8Array, after: number, last: number): void {
    if (last <= after) return
    if (bytes.byteLength > this.#maxBytes || this.#now() > this.#armedUntil) {
      this.clear()
      return
    }
    const newest = this.#batches[this.#batches.length - 1]
    if (newest !== undefined && newest.last !== after) this.clear()
    this.#batches.push({ after, last, bytes: Buffer.from(bytes) })
    this.#bytes += bytes.byteLength
    while (this.#bytes > this.#maxBytes) this.#bytes -= this.#batches.shift()!.bytes.byteLength
  }

  /** A read started: batches written within `ARMED_MS` from now are kept. */
  arm(): void {
    this.#armedUntil = this.#now() + ARMED_MS
  }

  /** Forgets every batch. */
  clear(): void {
    this.#batches = []
    this.#bytes = 0
  }

  /**
   * The commits after `from` up to `target` (payloads, or whole frames if `encoded`), if every one of them is kept;
   * otherwise `undefined`. Frames are decoded (length, CRC) again: the copy is checked like a file read. Every call
   * keeps batches coming for `ARMED_MS`.
   */
  read(from: number, target: number, encoded: boolean): ReadCommit[] | undefined {
    this.arm()
    const batches = this.#batches
    const newest = batches[batches.length - 1]
    if (newest === undefined || target > newest.last || from >= target) return undefined
    let i = batches.length - 1
    while (i > 0 && batches[i]!.after > from) i--
    if (batches[i]!.after > from) return undefined
    const out: ReadCommit[] = []
    for (; i < batches.length; i++) {
      if (!collect(batches[i]!.bytes, from, target, encoded, out)) return undefined
      if (out.length > 0 && out[out.length - 1]!.seq >= target) break
    }
    return out.length === target - from ? out : undefined
  }
}

/** Appends the commits of one batch's bytes in (from, target] to `out`; false if a frame does not decode. */
function collect(bytes: Buffer, from: number, target: number, encoded: boolean, out: ReadCommit[]): boolean {
  let offset = 0
  while (offset < bytes.byteLength) {
    const frame = decodeFrame(bytes, offset, bytes.byteLength)
    if (typeof frame === 'string') return false
    if (frame.type === FrameType.commit && frame.seq > from && frame.seq <= target) {
      const chain = chainToHex(frame.chain)
      if (encoded) out.push({ seq: frame.seq, chain, frame: bytes.subarray(offset, offset + frame.size) })
      else out.push({ seq: frame.seq, chain, payload: frame.payload })
    }
    offset += frame.size
  }
  return true
}
