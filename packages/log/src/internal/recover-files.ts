// Recovery at open, the I/O half: lists the directory, reads the segment headers, scans the last segment, gathers
// the facts and carries out what `decideRecovery` (recovery.ts) says: cut, delete, roll, or refuse with nothing
// changed (FORMAT.md › Recovery at a writable open). A read-only open gathers the same facts and changes nothing.
import { join } from 'node:path'
import { LogConfigError, LogCorruptionError } from '../errors.js'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import type { RecoveryReport } from '../types.js'
import {
  newLogId,
  parseSegmentFileName,
  SEGMENT_HEADER_BYTES,
  SEGMENT_HEADER_OFFSET,
  type SegmentHeader,
  segmentFileName,
  TEMP_SUFFIX,
} from './format.js'
import { closeQuietly } from './io.js'
import type { Point } from './positions.js'
import { decideRecovery, isTornCreation, type RecoveryDecision, type RecoveryFacts } from './recovery.js'
import { createSegment, readSegmentFile } from './segment-file.js'
import { endsCleanly, type SegmentScan, scanSegment } from './segment-scan.js'
import { type SegmentRef, segmentRef } from './segment-set.js'
import { checkSnapshotFile, type ListedSnapshot, snapshotsIn } from './snapshot-file.js'

/** What an open found and left: the log's segments, its active segment open, its head and what recovery did. */
export interface RecoveredFiles {
  readonly logId: string
  readonly segments: SegmentRef[]
  /**
   * The active (last) segment: open ('r+' when writable, with `dsync` if asked for), and the offset where its valid
   * frames end.
   */
  readonly active: { readonly handle: FileHandleLike; readonly validEnd: number; readonly sealed: boolean }
  readonly head: Point
  readonly recovery: RecoveryReport
  /** Snapshot files the log counts (a writable open leaves out those past the recovered head). */
  readonly snapshots: ListedSnapshot[]
}

/** What the open was asked for. */
export interface RecoverOptions {
  readonly writable: boolean
  /** Open the active segment for durable writes (O_DSYNC: 'fsync' mode); the file layer may not honour it. */
  readonly dsync: boolean
  readonly mustExist: boolean
  /** For a directory holding no log yet: the new log's id (random if undefined) and the position it starts at. */
  readonly create: { readonly logId: string | undefined; readonly start: Point }
  /** Length a writable open gives the active segment and every segment it creates (0: none; FORMAT.md › Writing). */
  readonly preallocateBytes: number
}

/** The segments whose headers check out, and a torn creation after the last of them, if there is one. */
interface FoundSegments {
  readonly logId: string | undefined
  readonly segments: SegmentRef[]
  readonly torn: { readonly name: string; readonly size: number } | undefined
}

/** Opens the log files in `dir` for {@link RecoverOptions}, recovering the last segment; see the file header. */
export async function recoverFiles(fs: FileLayer, dir: string, o: RecoverOptions): Promise<RecoveredFiles> {
  const names = await fs.readdir(dir)
  if (o.writable) {
    for (const name of names) if (name.endsWith(TEMP_SUFFIX)) await fs.unlink(join(dir, name))
  }
  const snapshots = snapshotsIn(names)
  const found = await readHeaders(fs, dir, names, snapshots.length > 0)
  if (found.segments.length > 0) return recoverLast(fs, dir, o, found, snapshots)
  if (!o.writable || o.mustExist) throw new LogConfigError(`no log at ${dir}`, { dir })
  return createLog(fs, dir, o, found, snapshots)
}

/** Reads every segment header (FORMAT.md › Recovery 2): they must agree on logId and numbering. */
async function readHeaders(
  fs: FileLayer,
  dir: string,
  names: readonly string[],
  hasSnapshots: boolean,
): Promise<FoundSegments> {
  const numbers = names
    .map(parseSegmentFileName)
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b)
  const segments: SegmentRef[] = []
  let logId: string | undefined
  for (const [i, number] of numbers.entries()) {
    const name = segmentFileName(number)
    const { header, size } = await readSegmentFile(fs, join(dir, name))
    if (typeof header === 'string') {
      const previous = segments[segments.length - 1]?.number
      const isLast = i === numbers.length - 1
      if (isTornCreation({ number, size, isLast, previous, snapshots: hasSnapshots })) {
        return { logId, segments, torn: { name, size } }
      }
      throw new LogCorruptionError(`segment ${name} has a damaged header (${header})`, { dir, file: name, offset: 0 })
    }
    checkHeader(dir, name, number, header, logId, segments[segments.length - 1])
    logId = header.logId
    segments.push(segmentRef(number, header.baseSeq, header.baseChain))
  }
  return { logId, segments, torn: undefined }
}

function checkHeader(
  dir: string,
  file: string,
  number: number,
  header: SegmentHeader,
  logId: string | undefined,
  prev: SegmentRef | undefined,
): void {
  if (logId !== undefined && header.logId !== logId) {
    throw new LogCorruptionError(`segment ${file} belongs to log ${header.logId}, not ${logId}`, {
      dir,
      file,
      offset: SEGMENT_HEADER_OFFSET.logId,
    })
  }
  if (header.number !== number) {
    throw new LogCorruptionError(`segment ${file} says it is number ${header.number}`, {
      dir,
      file,
      offset: SEGMENT_HEADER_OFFSET.number,
    })
  }
  if (prev && header.baseSeq < prev.baseSeq) {
    throw new LogCorruptionError(`segment ${file} starts at seq ${header.baseSeq}, before the previous segment`, {
      dir,
      file,
      offset: SEGMENT_HEADER_OFFSET.baseSeq,
      seq: header.baseSeq,
    })
  }
}

/** A directory without segments: a new log (after deleting a first segment whose creation was cut short). */
async function createLog(
  fs: FileLayer,
  dir: string,
  o: RecoverOptions,
  found: FoundSegments,
  snapshots: ListedSnapshot[],
): Promise<RecoveredFiles> {
  const recovery: RecoveryReport = { truncatedBytes: 0, droppedCommits: 0 }
  if (found.torn) {
    await fs.unlink(join(dir, found.torn.name))
    await fs.syncDir(dir)
    recovery.truncatedBytes += found.torn.size
  }
  const { start } = o.create
  const header = { number: 1, logId: o.create.logId ?? newLogId(), baseSeq: start.seq }
  const options = { dsync: o.dsync, preallocateBytes: o.preallocateBytes }
  const handle = await createSegment(fs, dir, { ...header, baseChain: start.chain }, options)
  return {
    logId: header.logId,
    segments: [segmentRef(1, start.seq, start.chain)],
    active: { handle, validEnd: SEGMENT_HEADER_BYTES, sealed: false },
    head: start,
    recovery,
    snapshots,
  }
}

/** Scans the last intact segment, decides (recovery.ts) and acts; see the file header. */
async function recoverLast(
  fs: FileLayer,
  dir: string,
  o: RecoverOptions,
  found: FoundSegments,
  snapshots: ListedSnapshot[],
): Promise<RecoveredFiles> {
  const logId = found.logId!
  const segments = found.segments
  const last = segments[segments.length - 1]!
  const recovery: RecoveryReport = { truncatedBytes: 0, droppedCommits: 0 }
  const handle = await fs.open(join(dir, last.name), o.writable ? 'r+' : 'r', { dsync: o.writable && o.dsync })
  let scan: SegmentScan
  let decision: RecoveryDecision
  try {
    const size = await handle.size()
    scan = await scanSegment(handle, { ...last, logId }, size, o.writable)
    const ahead = o.writable ? await snapshotAhead(fs, dir, snapshots, logId, scan.seq) : undefined
    const facts = factsOf(scan, found.torn !== undefined, ahead !== undefined)
    decision = decideRecovery(facts)
    if (decision.refuse === 'always' || (decision.refuse === 'writable' && o.writable)) {
      throw refusal(decision, { dir, file: last.name, scan, torn: found.torn?.name, ahead })
    }
    if (o.writable) {
      const at = { size, scan, torn: found.torn, recovery, last, preallocateBytes: o.preallocateBytes }
      await applyDecision(fs, dir, handle, decision, at)
    }
  } catch (error) {
    await closeQuietly(handle)
    throw error
  }
  let active = { handle, validEnd: scan.validEnd, sealed: scan.sealed }
  if (o.writable && decision.roll) {
    // FORMAT.md › Recovery 6: the last segment is sealed, so the next one is created now.
    await handle.close()
    const next = segmentRef(last.number + 1, scan.seq, scan.chain)
    const header = { number: next.number, logId, baseSeq: scan.seq, baseChain: scan.chain }
    const created = await createSegment(fs, dir, header, { dsync: o.dsync, preallocateBytes: o.preallocateBytes })
    segments.push(next)
    active = { handle: created, validEnd: SEGMENT_HEADER_BYTES, sealed: false }
  }
  // A snapshot file past the recovered head is not of this history: a valid one would have refused the writable
  // open, so it is damaged. It stays on disk (verifyLog reports it) but is not this log's: it would refuse every
  // new snapshot below its seq. A snapshot at its seq replaces it.
  const counted = o.writable ? snapshots.filter((s) => s.seq <= scan.seq) : snapshots
  return { logId, segments, active, head: { seq: scan.seq, chain: scan.chain }, recovery, snapshots: counted }
}

/** The facts of FORMAT.md › Recovery 2–4 as {@link decideRecovery} takes them. */
export function factsOf(scan: SegmentScan, tornCreation: boolean, snapshotAhead: boolean): RecoveryFacts {
  const synced = Math.max(scan.maxSynced, scan.beyond.maxSynced)
  return {
    next: tornCreation ? 'torn-creation' : 'none',
    end: endsCleanly(scan.stop) ? 'eof' : 'damage',
    sealed: scan.sealed,
    damageSynced: !endsCleanly(scan.stop) && scan.validEnd < synced,
    snapshotAhead,
  }
}

/** A valid snapshot of this log at a seq past `seq`, if there is one (FORMAT.md › Recovery 4). */
async function snapshotAhead(
  fs: FileLayer,
  dir: string,
  snapshots: readonly ListedSnapshot[],
  logId: string,
  seq: number,
): Promise<ListedSnapshot | undefined> {
  for (const entry of snapshots) {
    if (entry.seq <= seq) continue
    const checked = await checkSnapshotFile(fs, join(dir, entry.name))
    if ('problem' in checked || checked.header.logId !== logId || checked.header.seq !== entry.seq) continue
    return entry
  }
  return undefined
}

/**
 * Cuts the torn tail or deletes the torn creation, gives the segment that stays active its preallocated length
 * (zeros where the cut was), then makes the segment and the directory durable.
 */
async function applyDecision(
  fs: FileLayer,
  dir: string,
  handle: FileHandleLike,
  decision: RecoveryDecision,
  at: {
    size: number
    scan: SegmentScan
    torn: FoundSegments['torn']
    recovery: RecoveryReport
    last: SegmentRef
    preallocateBytes: number
  },
): Promise<void> {
  const { scan, recovery } = at
  if (decision.deleteTorn && at.torn) {
    await fs.unlink(join(dir, at.torn.name))
    recovery.truncatedBytes += at.torn.size
  }
  if (decision.cut) {
    // The last unsynced writes were cut short or reached the disk out of order.
    await handle.truncate(scan.validEnd)
    recovery.truncatedBytes += scan.dataEnd - scan.validEnd
    recovery.droppedCommits += scan.beyond.commits
    recovery.cutAt = { file: at.last.name, offset: scan.validEnd }
  }
  // Preallocated (again) only if the segment stays active: a segment written before preallocation, or just cut.
  const length = decision.cut ? scan.validEnd : at.size
  if (!decision.roll && at.preallocateBytes > length) await handle.truncate(at.preallocateBytes)
  // FORMAT.md › Recovery 5: a previous process may have died after creating this segment but before the directory
  // fsync of its roll (or after deleting files): make the names durable before anything appended now is acknowledged.
  await handle.datasync()
  await fs.syncDir(dir)
}

/** The LogCorruptionError a refusing case throws, naming file, offset, seq and the rule. */
function refusal(
  decision: RecoveryDecision,
  at: { dir: string; file: string; scan: SegmentScan; torn: string | undefined; ahead: ListedSnapshot | undefined },
): LogCorruptionError {
  const { scan, file } = at
  const context = {
    dir: at.dir,
    file,
    offset: scan.validEnd,
    seq: scan.seq,
    problem: scan.stop,
    recoveryCase: decision.case,
    rule: `FORMAT.md › ${decision.rule}`,
  }
  const where = `segment ${file}`
  switch (decision.case) {
    case 'corrupt-after-seal': {
      const problem = scan.stop === 'eof' ? 'no seal' : scan.stop
      return new LogCorruptionError(
        `${where} is damaged at byte ${scan.validEnd} after seq ${scan.seq} (${problem}), although ${at.torn} was created after it was sealed`,
        context,
      )
    }
    case 'corrupt-snapshot-ahead':
      return new LogCorruptionError(
        `${where} ends at seq ${scan.seq} (${scan.stop} at byte ${scan.validEnd}), but snapshot ${at.ahead?.name} proves commits up to seq ${at.ahead?.seq} were durable`,
        { ...context, snapshot: at.ahead?.name },
      )
    default: {
      const synced = Math.max(scan.maxSynced, scan.beyond.maxSynced)
      return new LogCorruptionError(
        `${where} is damaged at byte ${scan.validEnd} after seq ${scan.seq} (${scan.stop}), inside data known to be durable (up to byte ${synced})`,
        { ...context, syncedTo: synced },
      )
    }
  }
}
