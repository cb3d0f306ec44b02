// verifyLog: a read-only audit of a log directory (segments, frames, chain, snapshots, lock) for forensics and
// for the `homedb verify` command. It never writes, truncates or deletes anything. Whether damage at the end of the
// log is a torn tail or corruption is decided by the same rule table as a writable open (internal/recovery.ts).
import { join } from 'node:path'
import type { FileLayer } from './file-layer.js'
import { nodeFileLayer } from './file-layer.js'
import {
  chainToHex,
  LOCK_FILE,
  parseSegmentFileName,
  parseSnapshotFileName,
  SEGMENT_HEADER_OFFSET,
  segmentFileName,
} from './internal/format.js'
import { readFully } from './internal/io.js'
import { parseLockFile } from './internal/lock.js'
import { asLogError } from './internal/log-io-errors.js'
import { factsOf } from './internal/recover-files.js'
import { decideRecovery, isTornCreation } from './internal/recovery.js'
import { readSegmentHeader } from './internal/segment-file.js'
import { endsCleanly, type SegmentScan, scanSegment } from './internal/segment-scan.js'
import { checkSnapshotFile, listSnapshots } from './internal/snapshot-file.js'
import type { Position } from './types.js'

/** One problem found by {@link verifyLog}. */
export interface LogDamage {
  file: string
  offset: number
  /** Last good seq before the damage. */
  seq: number
  problem: string
  /**
   * `'torn-tail'`: damage at the end of the last segment after the last durable point, which a writable open
   * cuts off. `'corruption'`: damage a writable open refuses. `'ignored'`: e.g. a torn snapshot, never loaded.
   */
  kind: 'torn-tail' | 'corruption' | 'ignored'
}

/** What {@link verifyLog} found. */
export interface VerifyReport {
  dir: string
  logId: string | undefined
  /** Segments in order, with the commits each holds (`bytes`: where its data ends, preallocated zeros not counted). */
  segments: { file: string; bytes: number; firstSeq: number; lastSeq: number; commits: number; sealed: boolean }[]
  snapshots: { file: string; seq: number; chain: string | undefined; bytes: number; valid: boolean; problem?: string }[]
  /** Position after the last commit that checks out. */
  head: Position
  /** Position before the oldest commit in segments. */
  start: Position
  damage: LogDamage[]
  /** Holder named by the lock file, if one is there. */
  lock: { pid: number; hostname: string; acquiredAt: string } | undefined
  /** True when there is no damage other than a torn tail (a writable open would succeed). */
  ok: boolean
}

/**
 * Audits a log directory without changing it.
 *
 * @example
 * ```ts
 * const report = await verifyLog('./data/log')
 * if (!report.ok) console.error(report.damage)
 * ```
 */
export async function verifyLog(dir: string, options: { fileLayer?: FileLayer } = {}): Promise<VerifyReport> {
  try {
    return await verify(dir, options.fileLayer ?? nodeFileLayer)
  } catch (error) {
    throw asLogError(error, 'verify', { dir })
  }
}

/** The last segment whose header checked out: its scan, the damage found in it, and what follows it. */
interface LogEnd {
  readonly file: string
  readonly scan: SegmentScan
  readonly damage: LogDamage | undefined
  /** What follows it: nothing, a torn creation, or a damaged header (then no recovery rule applies). */
  next: 'none' | 'torn-creation' | 'damaged'
}

async function verify(dir: string, fs: FileLayer): Promise<VerifyReport> {
  const names = await fs.readdir(dir)
  const report: VerifyReport = {
    dir,
    logId: undefined,
    segments: [],
    snapshots: [],
    head: { seq: 0, chain: chainToHex(0n) },
    start: { seq: 0, chain: chainToHex(0n) },
    damage: [],
    lock: undefined,
    ok: true,
  }
  const end = await verifySegments(fs, dir, names, report)
  await verifySnapshots(fs, dir, report)
  report.lock = await lockHolder(fs, dir, names)
  // A valid snapshot ahead of the last commit means commits known durable are gone (a writable open refuses it).
  // Only snapshots listed before the segments were scanned count: on a live log a newer one may appear meanwhile.
  const ahead = report.snapshots.filter((s) => s.valid && s.seq > report.head.seq && names.includes(s.file))
  const last = report.segments[report.segments.length - 1]
  for (const snap of last ? ahead : []) {
    report.damage.push({
      file: last!.file,
      offset: last!.bytes,
      seq: report.head.seq,
      problem: `ends before snapshot ${snap.file}`,
      kind: 'corruption',
    })
  }
  if (end) judgeEnd(report, end, ahead.length > 0)
  report.ok = report.damage.every((d) => d.kind !== 'corruption')
  return report
}

/** Checks every segment: header, continuity with the previous one, and every frame. Returns the log's end. */
async function verifySegments(
  fs: FileLayer,
  dir: string,
  names: readonly string[],
  report: VerifyReport,
): Promise<LogEnd | undefined> {
  const numbers = names
    .map(parseSegmentFileName)
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b)
  const hasSnapshots = names.some((n) => parseSnapshotFileName(n) !== undefined)
  let expected: { seq: number; chain: bigint } | undefined
  /** Number of the last segment whose header checked out. */
  let intact: number | undefined
  let end: LogEnd | undefined
  for (const [i, number] of numbers.entries()) {
    const file = segmentFileName(number)
    const isLast = i === numbers.length - 1
    const handle = await fs.open(join(dir, file), 'r')
    try {
      const size = await handle.size()
      const header = await readSegmentHeader(handle)
      if (typeof header === 'string') {
        const torn = isTornCreation({ number, size, isLast, previous: intact, snapshots: hasSnapshots })
        const seq = expected?.seq ?? 0
        const kind = torn ? 'torn-tail' : 'corruption'
        report.damage.push({ file, offset: 0, seq, problem: `header ${header}`, kind })
        if (end) end.next = torn ? 'torn-creation' : 'damaged'
        continue
      }
      if (report.logId === undefined) {
        report.logId = header.logId
        report.start = { seq: header.baseSeq, chain: chainToHex(header.baseChain) }
      } else if (header.logId !== report.logId) {
        const offset = SEGMENT_HEADER_OFFSET.logId
        report.damage.push({ file, offset, seq: header.baseSeq, problem: 'foreign log id', kind: 'corruption' })
        if (end) end.next = 'damaged'
        continue
      }
      if (expected && (header.baseSeq !== expected.seq || header.baseChain !== expected.chain)) {
        const problem = 'does not continue the previous segment'
        const offset = SEGMENT_HEADER_OFFSET.baseSeq
        report.damage.push({ file, offset, seq: expected.seq, problem, kind: 'corruption' })
      }
      const scan = await scanSegment(handle, header, size, isLast)
      let damage: LogDamage | undefined
      if (!endsCleanly(scan.stop)) {
        // Corruption unless it is the end of the log and the recovery rules call it a torn tail (judgeEnd).
        damage = { file, offset: scan.validEnd, seq: scan.seq, problem: scan.stop, kind: 'corruption' }
        report.damage.push(damage)
      }
      intact = number
      end = { file, scan, damage, next: 'none' }
      report.segments.push({
        file,
        // A preallocated segment's unwritten zeros are not its data.
        bytes: scan.stop === 'zero-tail' ? scan.validEnd : size,
        firstSeq: header.baseSeq + 1,
        lastSeq: scan.seq,
        commits: scan.commits,
        sealed: scan.sealed,
      })
      expected = { seq: scan.seq, chain: scan.chain }
      report.head = { seq: scan.seq, chain: chainToHex(scan.chain) }
    } finally {
      await handle.close()
    }
  }
  return end
}

/**
 * Applies the recovery rules (internal/recovery.ts) to the end of the log: damage there is a torn tail only if a
 * writable open would cut it, and a segment that a torn creation follows must be sealed.
 */
function judgeEnd(report: VerifyReport, end: LogEnd, snapshotAhead: boolean): void {
  if (end.next === 'damaged') return
  const decision = decideRecovery(factsOf(end.scan, end.next === 'torn-creation', snapshotAhead))
  if (end.damage && decision.cut) end.damage.kind = 'torn-tail'
  if (decision.case === 'corrupt-after-seal' && !end.damage) {
    const { scan } = end
    report.damage.push({ file: end.file, offset: scan.validEnd, seq: scan.seq, problem: 'no seal', kind: 'corruption' })
  }
}

/** Checks every snapshot file through (header, chunks, trailer); a torn one is reported as ignored. */
async function verifySnapshots(fs: FileLayer, dir: string, report: VerifyReport): Promise<void> {
  for (const entry of await listSnapshots(fs, dir)) {
    const checked = await checkSnapshotFile(fs, join(dir, entry.name))
    if ('problem' in checked) {
      const { problem, offset } = checked
      report.snapshots.push({ file: entry.name, seq: entry.seq, chain: undefined, bytes: 0, valid: false, problem })
      const damage = { file: entry.name, offset, seq: entry.seq, problem: `snapshot ${problem}` }
      report.damage.push({ ...damage, kind: 'ignored' })
      continue
    }
    const foreign = report.logId !== undefined && checked.header.logId !== report.logId
    report.snapshots.push({
      file: entry.name,
      seq: checked.header.seq,
      chain: chainToHex(checked.header.chain),
      bytes: checked.bytes,
      valid: !foreign,
      ...(foreign ? { problem: 'foreign log id' } : {}),
    })
  }
}

/** Who the lock file names, if there is one that parses. */
async function lockHolder(fs: FileLayer, dir: string, names: readonly string[]): Promise<VerifyReport['lock']> {
  if (!names.includes(LOCK_FILE)) return undefined
  try {
    const handle = await fs.open(join(dir, LOCK_FILE), 'r')
    const bytes = await readFully(handle, 0, 4096)
    await handle.close()
    const holder = parseLockFile(bytes)
    return holder && { pid: holder.pid, hostname: holder.hostname, acquiredAt: holder.acquiredAt }
  } catch {
    return undefined // released while we looked
  }
}
