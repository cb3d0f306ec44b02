// Compaction: the full state written as a snapshot through the log, which then releases the segments it covers,
// while reads and writes go on. Nothing is copied up front: each table is captured (state-capture.ts), the write path
// tells the captures about every operation before applying it (beforeApply, rolledBack), and the snapshot is encoded
// and written in chunks. Also the policy that starts a compaction in the background once the log written since the
// last snapshot outgrew it and holds dead weight (see #maybeCompact), and the notices of each snapshot written (logOf's
// onSnapshot, for replication).
import type { Log, SnapshotInfo } from '@homedb/log'
import type { CompactInfo } from '../database.js'
import type { TableKind } from '../table-kind.js'
import { type BaseTable, CAPTURE } from './base-table.js'
import { fromLogError } from './log-errors.js'
import type { Op } from './opcodes.js'
import type { ReplayAccounting } from './replay.js'
import { encodeSnapshot, SNAPSHOT_FORMAT, type SnapshotHeader } from './snapshot-codec.js'
import type { TableCapture } from './state-capture.js'

/** Operations per snapshot chunk: small enough that encoding one is a short event-loop block. */
const OPS_PER_CHUNK = 1024

/**
 * When to compact on its own: once the log since the last snapshot exceeds `ratio` × max(snapshot, `minBytes`) and
 * a commit since the snapshot replaced or removed data (a log that only grew is what its snapshot would be).
 */
export type AutoCompact = false | { readonly ratio: number; readonly minBytes: number }

/** What compaction needs from the db. */
export interface CompactorDeps {
  readonly log: Log
  readonly tables: ReadonlyMap<string, BaseTable>
  /** Seq of the last commit applied in memory: the state a compaction started now captures. */
  seq(): number
  /** The value version each table's data was written with (see replay.ts). */
  recordedVersion(table: string): number
  /** True once the db is closing: no automatic compaction starts any more. */
  closing(): boolean
  /** The automatic compaction policy (false for a read-only db). */
  readonly policy: AutoCompact
  /** Receives the error of a failed automatic compaction. */
  readonly onError: (error: unknown) => void
}

/** The compaction of one db; see the file header. */
export class Compactor implements ReplayAccounting {
  readonly #deps: CompactorDeps
  readonly #policy: AutoCompact
  /** Captures of every table while a compaction writes its snapshot; undefined otherwise. */
  #captures: Map<string, TableCapture> | undefined
  #running: Promise<CompactInfo> | undefined
  #autoScheduled = false
  /** Payload bytes in the log after the latest snapshot, and that snapshot's size (the automatic policy). */
  #bytesSinceSnapshot = 0
  #snapshotBytes = 0
  /** Commits since the latest snapshot that left dead weight (see APPLY in base-table.ts). */
  #deadWeightCommits = 0
  readonly #snapshotListeners = new Set<(info: SnapshotInfo) => void>()

  constructor(deps: CompactorDeps) {
    this.#deps = deps
    this.#policy = deps.policy
  }

  /** Must be called before every operation applied to a table; `txn` identifies its transaction (or the lone op). */
  beforeApply(table: BaseTable, op: Op, txn: object): void {
    const captures = this.#captures
    if (captures !== undefined) captures.get(table.name)?.willApply(op, txn)
  }

  /** The transaction (or lone operation) `txn` was rolled back. */
  rolledBack(txn: object): void {
    const captures = this.#captures
    if (captures !== undefined) for (const capture of captures.values()) capture.rolledBack(txn)
  }

  /**
   * A commit of `bytes` payload bytes was appended (`deadWeight`: it replaced or removed data): counts it and starts
   * an automatic compaction if it is due.
   */
  appended(bytes: number, deadWeight: boolean): void {
    this.#bytesSinceSnapshot += bytes
    if (deadWeight) this.#deadWeightCommits++
    const policy = this.#policy
    if (policy !== false && this.#running === undefined) this.#maybeCompact(policy)
  }

  snapshotLoaded(bytes: number): void {
    this.#snapshotBytes = bytes
  }

  replayed(bytes: number, deadWeight: boolean): void {
    this.#bytesSinceSnapshot += bytes
    if (deadWeight) this.#deadWeightCommits++
  }

  /** Commits since the latest snapshot that left dead weight, written or replayed (what the policy waits for). */
  get deadWeightCommits(): number {
    return this.#deadWeightCommits
  }

  /** Runs a compaction, or joins the one running. The db checks first that one may run now. */
  compact(): Promise<CompactInfo> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Resolves once no compaction runs (a failed one included). */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined)
  }

  /** Calls `listener` after each snapshot this db writes. Returns a function that unsubscribes. */
  onSnapshot(listener: (info: SnapshotInfo) => void): () => void {
    this.#snapshotListeners.add(listener)
    return () => {
      this.#snapshotListeners.delete(listener)
    }
  }

  async #run(): Promise<CompactInfo> {
    const { log, tables } = this.#deps
    const started = performance.now()
    const seq = this.#deps.seq()
    const bytesAtStart = this.#bytesSinceSnapshot
    const deadAtStart = this.#deadWeightCommits
    const captures = captureAll(tables)
    const kinds: Record<string, { kind: TableKind; version: number }> = {}
    for (const name of captures.keys()) {
      kinds[name] = { kind: tables.get(name)!.kind, version: this.#deps.recordedVersion(name) }
    }
    const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, seq, tables: kinds }
    const counter = { ops: 0 }
    this.#captures = captures
    let info: SnapshotInfo
    try {
      info = await log.snapshot(encodeSnapshot(header, capturedOps(captures), OPS_PER_CHUNK, counter), seq)
    } catch (error) {
      throw fromLogError(error)
    } finally {
      this.#captures = undefined
    }
    this.#snapshotBytes = info.bytes
    for (const listener of [...this.#snapshotListeners]) listener(info)
    this.#bytesSinceSnapshot = Math.max(0, this.#bytesSinceSnapshot - bytesAtStart)
    this.#deadWeightCommits = Math.max(0, this.#deadWeightCommits - deadAtStart)
    return { seq, bytes: info.bytes, ops: counter.ops, ms: performance.now() - started }
  }

  /**
   * Starts a compaction in the background if the log outgrew the policy's ratio and holds dead weight: without any,
   * the snapshot would hold the same operations as the log, so it would free nothing and only cost the writes.
   */
  #maybeCompact(policy: { readonly ratio: number; readonly minBytes: number }): void {
    if (this.#autoScheduled || this.#deadWeightCommits === 0) return
    if (this.#bytesSinceSnapshot <= policy.ratio * Math.max(this.#snapshotBytes, policy.minBytes)) return
    this.#autoScheduled = true
    setImmediate(() => {
      this.#autoScheduled = false
      if (this.#deps.closing() || this.#running !== undefined || this.#deps.log.failure !== undefined) return
      this.compact().catch((error: unknown) => this.#deps.onError(error))
    })
  }
}

/** A capture of every table now, by table name (the snapshot's deterministic table order). */
export function captureAll(tables: ReadonlyMap<string, BaseTable>): Map<string, TableCapture> {
  const captures = new Map<string, TableCapture>()
  for (const name of [...tables.keys()].sort()) captures.set(name, tables.get(name)![CAPTURE]())
  return captures
}

/** Every captured table's operations, tables in the given (name) order. */
export function* capturedOps(captures: ReadonlyMap<string, TableCapture>): Generator<Op> {
  for (const capture of captures.values()) yield* capture.ops()
}
