// Assembles a Log from its pieces, in one place for every kind of open: memory mode (one MemoryLog is sink, source
// and snapshot keeper), a writable directory (group commit, segment reader, retention) and a read-only one
// (segment reader, retention, follower). The pieces get narrow dependencies; the facade gets the pieces.
import type { LogErrorContext } from '../errors.js'
import { AppendListeners } from './append-listeners.js'
import { Follower } from './follower.js'
import { newLogId } from './format.js'
import { GroupCommit } from './group-commit.js'
import { Holds } from './holds.js'
import { InlineWrites } from './inline-writes.js'
import { invariant } from './invariant.js'
import { LogImpl } from './log-impl.js'
import type { ResolvedOptions } from './log-options.js'
import { type CommitSource, type FrameSink, NO_WRITES, type SnapshotKeeper } from './log-parts.js'
import { MemoryLog } from './memory-log.js'
import { LogPositions } from './positions.js'
import { RecentFrames } from './recent-frames.js'
import type { RecoveredFiles } from './recover-files.js'
import { Retention } from './retention.js'
import { SegmentReader } from './segment-reader.js'
import { SegmentSet } from './segment-set.js'

/** The parts of a log that differ between memory, writable and read-only. */
interface Parts {
  readonly sink: FrameSink
  readonly source: CommitSource
  readonly snapshots: SnapshotKeeper
  readonly follower: Follower | undefined
}

/** What every kind of log shares, handed to the code that makes its {@link Parts}. */
interface Shared {
  readonly logId: string
  readonly dir: string | undefined
  readonly positions: LogPositions
  readonly holds: Holds
  readonly listeners: AppendListeners
  readonly context: () => LogErrorContext
}

function assemble(
  o: ResolvedOptions,
  base: {
    logId: string
    dir: string | undefined
    positions: LogPositions
    recovery: RecoveredFiles['recovery']
    releaseLock: (() => Promise<void>) | undefined
  },
  makeParts: (shared: Shared) => Parts,
): LogImpl {
  const { logId, dir, positions } = base
  const holds = new Holds()
  const listeners = new AppendListeners(positions)
  const context = () => ({ dir, seq: positions.headSeq })
  const parts = makeParts({ logId, dir, positions, holds, listeners, context })
  return new LogImpl({
    ...parts,
    logId,
    dir,
    durability: o.durability,
    readOnly: o.readOnly,
    recovery: base.recovery,
    maxPayloadBytes: o.maxPayloadBytes,
    positions,
    holds,
    listeners,
    releaseLock: base.releaseLock,
  })
}

/** A 'memory' log: no files, nothing to recover. */
export function memoryLog(dir: string | undefined, o: ResolvedOptions): LogImpl {
  const start = o.create.start
  const logId = o.create.logId ?? newLogId()
  const base = { logId, dir, positions: new LogPositions(start, start), releaseLock: undefined }
  return assemble(o, { ...base, recovery: { truncatedBytes: 0, droppedCommits: 0 } }, (shared) => {
    const memory = new MemoryLog({ ...shared, onWritten: () => shared.listeners.notify() })
    return { sink: memory, source: memory, snapshots: memory, follower: undefined }
  })
}

/** A log on the files `recovered` describes (writable if the options say so, read-only otherwise). */
export function fileLog(
  dir: string,
  o: ResolvedOptions,
  recovered: RecoveredFiles,
  releaseLock: (() => Promise<void>) | undefined,
): LogImpl {
  const segments = new SegmentSet(recovered.segments)
  const { baseSeq, baseChain } = segments.first
  const positions = new LogPositions({ seq: baseSeq, chain: baseChain }, recovered.head)
  const base = { logId: recovered.logId, dir, positions, recovery: recovered.recovery, releaseLock }
  return assemble(o, base, (shared) => {
    const files = { ...shared, fs: o.fs, dir, segments }
    const notify = () => shared.listeners.notify()
    const { active } = recovered
    let writer: GroupCommit | undefined
    let follower: Follower | undefined
    const recent = o.readOnly || o.keepRecentBytes === 0 ? undefined : new RecentFrames(o.keepRecentBytes)
    if (o.readOnly) {
      follower = new Follower({
        ...files,
        intervalMs: o.followIntervalMs,
        active,
        onAdvance: notify,
        onError: o.onError,
      })
    } else {
      const durability = o.durability
      invariant(durability !== 'memory', 'files-not-memory', () => ({ durability }))
      const sizes = { segmentBytes: o.segmentBytes, preallocateBytes: o.preallocateBytes }
      const inline = new InlineWrites({ pageCache: o.inlineWrites, durable: o.inlineWrites })
      writer = new GroupCommit({ ...files, durability, ...sizes, active, recent, inline, onWritten: notify })
    }
    const activeEnd = writer ? () => writer.writtenOffset : () => follower!.offset
    const source = new SegmentReader({ ...files, activeEnd, recent })
    const snapshots = new Retention({ ...files, holds: shared.holds, writer, snapshots: recovered.snapshots })
    return { sink: writer ?? NO_WRITES, source, snapshots, follower }
  })
}
