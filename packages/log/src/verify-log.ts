// verifyLog: a read-only audit of a log directory (segments, frames, chain, snapshots, lock) for forensics and
// for the `homedb verify` command. It never writes, truncates or deletes anything.
import { join } from 'node:path'
import type { FileLayer } from './file-layer.js'
import { nodeFileLayer } from './file-layer.js'
import {
  chainToHex,
  LOCK_FILE,
  parseSegmentFileName,
  parseSnapshotFileName,
  segmentFileName,
} from './internal/format.js'
import { asLogError } from './internal/io-errors.js'
import { parseLockFile } from './internal/lock.js'
import { scanSegment } from './internal/scan.js'
import { isTornCreation, readSegmentHeader } from './internal/segment-file.js'
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
  /** Segments in order, with the commits each holds. */
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

async function verify(dir: string, fs: FileLayer): Promise<VerifyReport> {
  const names = await fs.readdir(dir)
  const numbers = names
    .map(parseSegmentFileName)
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b)
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
  let expected: { seq: number; chain: bigint } | undefined
  /** Number of the last segment whose header checked out. */
  let intact: number | undefined
  for (const [i, number] of numbers.entries()) {
    const file = segmentFileName(number)
    const handle = await fs.open(join(dir, file), 'r')
    try {
      const size = await handle.size()
      const header = await readSegmentHeader(handle)
      const isLast = i === numbers.length - 1
      if (typeof header === 'string') {
        // Same rule as a writable open.
        const torn = isTornCreation({
          number,
          size,
          isLast,
          previous: intact,
          snapshots: names.some((n) => parseSnapshotFileName(n) !== undefined),
        })
        report.damage.push({
          file,
          offset: 0,
          seq: expected?.seq ?? 0,
          problem: `header ${header}`,
          kind: torn ? 'torn-tail' : 'corruption',
        })
        continue
      }
      if (report.logId === undefined) {
        report.logId = header.logId
        report.start = { seq: header.baseSeq, chain: chainToHex(header.baseChain) }
      } else if (header.logId !== report.logId) {
        report.damage.push({ file, offset: 16, seq: header.baseSeq, problem: 'foreign log id', kind: 'corruption' })
        continue
      }
      if (expected && (header.baseSeq !== expected.seq || header.baseChain !== expected.chain)) {
        report.damage.push({
          file,
          offset: 32,
          seq: expected.seq,
          problem: 'does not continue the previous segment',
          kind: 'corruption',
        })
      }
      const scan = await scanSegment(handle, header, size, isLast)
      if (scan.stop !== 'eof') {
        const synced = Math.max(scan.maxSynced, scan.beyond.maxSynced)
        const torn = isLast && scan.validEnd >= synced
        report.damage.push({
          file,
          offset: scan.validEnd,
          seq: scan.seq,
          problem: scan.stop,
          kind: torn ? 'torn-tail' : 'corruption',
        })
      }
      intact = number
      report.segments.push({
        file,
        bytes: size,
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
  for (const entry of await listSnapshots(fs, dir)) {
    const checked = await checkSnapshotFile(fs, join(dir, entry.name))
    if ('problem' in checked) {
      report.snapshots.push({
        file: entry.name,
        seq: entry.seq,
        chain: undefined,
        bytes: 0,
        valid: false,
        problem: checked.problem,
      })
      report.damage.push({
        file: entry.name,
        offset: checked.offset,
        seq: entry.seq,
        problem: `snapshot ${checked.problem}`,
        kind: 'ignored',
      })
    } else {
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
  if (names.includes(LOCK_FILE)) {
    try {
      const handle = await fs.open(join(dir, LOCK_FILE), 'r')
      const buf = Buffer.alloc(4096)
      const n = await handle.read(buf, 0, buf.byteLength, 0)
      await handle.close()
      const holder = parseLockFile(buf.subarray(0, n))
      if (holder) report.lock = { pid: holder.pid, hostname: holder.hostname, acquiredAt: holder.acquiredAt }
    } catch {
      // released while we looked
    }
  }
  // A valid snapshot ahead of the last commit means commits known durable are gone (a writable open refuses it).
  // Only snapshots listed before the segments were scanned count: on a live log a newer one may appear meanwhile.
  const last = report.segments[report.segments.length - 1]
  for (const snap of report.snapshots) {
    if (last && snap.valid && snap.seq > report.head.seq && names.includes(snap.file)) {
      report.damage.push({
        file: last.file,
        offset: last.bytes,
        seq: report.head.seq,
        problem: `ends before snapshot ${snap.file}`,
        kind: 'corruption',
      })
    }
  }
  report.ok = report.damage.every((d) => d.kind !== 'corruption')
  return report
}
