// Snapshots and retention on files: writing a snapshot, finding the newest complete one, and releasing the
// segments and older snapshots that the newest snapshot and the retention holds no longer need (FORMAT.md ›
// Snapshot file, › Retention holds).
//
// Listed snapshot files are trusted by name only until they matter. A listed file is checked (every chunk and the
// trailer) the first time it would decide something: when it would refuse a new snapshot below its seq, or when it is
// loaded. A damaged one is marked and counts no more; the next compaction deletes it with the other old snapshots.
import { join } from 'node:path'
import { type LogErrorContext, LogSnapshotError } from '../errors.js'
import type { FileLayer } from '../file-layer.js'
import type { Snapshot, SnapshotInfo } from '../types.js'
import { chainFromHex, chainToHex } from './format.js'
import type { GroupCommit } from './group-commit.js'
import type { Holds } from './holds.js'
import { invariant } from './invariant.js'
import { asLogError } from './log-io-errors.js'
import type { SnapshotKeeper } from './log-parts.js'
import type { LogPositions } from './positions.js'
import type { SegmentRef, SegmentSet } from './segment-set.js'
import {
  checkSnapshotFile,
  type ListedSnapshot,
  listSnapshots,
  loadSnapshot,
  writeSnapshotFile,
} from './snapshot-file.js'

/** A snapshot file as retention knows it: listed, and once checked either complete (with its chain) or damaged. */
interface Entry extends ListedSnapshot {
  checked?: { readonly chain: bigint; readonly bytes: number }
  damaged?: true
}

/** What retention needs from the log. */
export interface RetentionDeps {
  readonly fs: FileLayer
  readonly dir: string
  readonly logId: string
  readonly segments: SegmentSet
  readonly positions: LogPositions
  readonly holds: Holds
  /** The writer of a writable log (to roll before releasing the active segment, and to fail on a failed delete). */
  readonly writer: GroupCommit | undefined
  /** The snapshot files the open counted, oldest first. */
  readonly snapshots: readonly ListedSnapshot[]
  readonly context: () => LogErrorContext
}

/** See the file header. */
export class Retention implements SnapshotKeeper {
  readonly #deps: RetentionDeps
  /** Oldest first; after a compaction only the newest is left. */
  #entries: Entry[]

  constructor(deps: RetentionDeps) {
    this.#deps = deps
    this.#entries = deps.snapshots.map((s) => ({ name: s.name, seq: s.seq }))
  }

  async newestSeq(): Promise<number | undefined> {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!
      if (!entry.checked && !entry.damaged) await this.#check(entry)
      if (!entry.damaged) return entry.seq
    }
    return undefined
  }

  knownChain(seq: number): bigint | undefined {
    return this.#entries.find((e) => e.seq === seq && e.checked)?.checked?.chain
  }

  async write(data: AsyncIterable<Uint8Array>, seq: number, chain: bigint): Promise<SnapshotInfo> {
    const { fs, dir, logId, writer } = this.#deps
    let written: Awaited<ReturnType<typeof writeSnapshotFile>>
    try {
      written = await writeSnapshotFile(fs, dir, { logId, seq, chain }, data)
    } catch (error) {
      if (error instanceof LogSnapshotError || !writer) throw error
      throw writer.fail(error, 'snapshot')
    }
    const entry: Entry = { name: written.name, seq, checked: { chain, bytes: written.bytes } }
    this.#entries = [...this.#entries.filter((s) => s.seq !== seq), entry]
    await this.#release()
    return { logId, seq, chain: chainToHex(chain), bytes: written.bytes, file: written.name }
  }

  async latest(): Promise<Snapshot | undefined> {
    let snap: Snapshot | undefined
    try {
      snap = await this.#findLatest()
    } catch (error) {
      throw asLogError(error, 'read snapshot', this.#deps.context())
    }
    if (snap === undefined) return undefined
    const loaded = snap
    const context = { ...this.#deps.context(), file: loaded.file, seq: loaded.seq }
    return {
      ...loaded,
      async *chunks() {
        try {
          yield* loaded.chunks()
        } catch (error) {
          throw asLogError(error, 'read snapshot', context)
        }
      },
      async payload() {
        try {
          return await loaded.payload()
        } catch (error) {
          throw asLogError(error, 'read snapshot', context)
        }
      },
    }
  }

  /** Checks a listed snapshot file through: complete and this log's (its chain is recorded), or damaged. */
  async #check(entry: Entry): Promise<void> {
    const { fs, dir, logId, context } = this.#deps
    let checked: Awaited<ReturnType<typeof checkSnapshotFile>>
    try {
      checked = await checkSnapshotFile(fs, join(dir, entry.name))
    } catch (error) {
      throw asLogError(error, 'read snapshot', { ...context(), file: entry.name })
    }
    if ('problem' in checked || checked.header.logId !== logId || checked.header.seq !== entry.seq) entry.damaged = true
    else entry.checked = { chain: checked.header.chain, bytes: checked.bytes }
  }

  async #findLatest(): Promise<Snapshot | undefined> {
    const { fs, dir, logId, writer } = this.#deps
    for (;;) {
      // A read-only log sees the writer's snapshots only in the directory.
      if (!writer) this.#entries = await listSnapshots(fs, dir)
      const list = this.#entries
      for (let i = list.length - 1; i >= 0; i--) {
        const entry = list[i]!
        if (entry.damaged) continue
        const loaded = await loadSnapshot(fs, dir, entry, logId)
        if (loaded) {
          entry.checked = { chain: chainFromHex(loaded.chain), bytes: loaded.bytes }
          return loaded
        }
        entry.damaged = true
      }
      // A snapshot taken meanwhile may have deleted the ones looked at: look again at the new list.
      if (writer) {
        if (list === this.#entries) return undefined
      } else {
        const now = await listSnapshots(fs, dir)
        if (now.map((e) => e.name).join() === list.map((e) => e.name).join()) return undefined
      }
    }
  }

  /** Deletes the segments and older snapshots that neither the newest snapshot nor any hold needs. */
  async #release(): Promise<void> {
    const { fs, dir, segments, positions, holds, writer } = this.#deps
    const newest = this.#entries[this.#entries.length - 1]
    if (!writer || writer.closed || !newest) return
    const keepAfter = holds.keepAfter(newest.seq)
    // Roll first if the active segment holds only commits the snapshot covers, so it can be released too.
    const active = segments.active
    const head = positions.headSeq
    if (active.baseSeq < keepAfter && keepAfter >= head && head > active.baseSeq) await writer.roll()
    // A segment is released once the next one starts at or before keepAfter: it holds nothing after it.
    const released = segments.all.filter(
      (s) => (segments.after(s.number)?.baseSeq ?? Number.POSITIVE_INFINITY) <= keepAfter,
    )
    const older = this.#entries.slice(0, -1)
    if (released.length === 0 && older.length === 0) return
    try {
      for (const s of released) await fs.unlink(join(dir, s.name))
      for (const s of older) await fs.unlink(join(dir, s.name))
      await fs.syncDir(dir)
    } catch (error) {
      throw writer.fail(error, 'unlink')
    }
    segments.release((s: SegmentRef) => !released.includes(s))
    this.#entries = this.#entries.slice(-1)
    positions.released({ seq: segments.first.baseSeq, chain: segments.first.baseChain })
    invariant(positions.start.seq === segments.first.baseSeq, 'start-is-first-segment-base', () => ({
      start: positions.start.seq,
      first: segments.first.name,
      base: segments.first.baseSeq,
    }))
  }
}
