// openLog: validates options, takes the writer lock, finds the segments, recovers the last one (cutting a torn
// tail, refusing corruption) and hands the result to the Log implementation.
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { LogConfigError, LogCorruptionError } from './errors.js'
import { type FileLayer, nodeFileLayer } from './file-layer.js'
import {
  chainFromHex,
  MAX_FRAME_BODY,
  parseSegmentFileName,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
  TEMP_SUFFIX,
} from './internal/format.js'
import { HomeLog, type SegmentRef } from './internal/home-log.js'
import { asLogError } from './internal/io-errors.js'
import { acquireLock } from './internal/lock.js'
import { type SegmentScan, scanSegment } from './internal/scan.js'
import { createSegment, isTornCreation, readSegmentHeader } from './internal/segment-file.js'
import { checkSnapshotFile, listSnapshots } from './internal/snapshot-file.js'
import type { Durability, Log, OpenLogOptions, Position, RecoveryReport } from './types.js'

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024
const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024

interface Resolved {
  durability: Durability
  segmentBytes: number
  maxPayloadBytes: number
  readOnly: boolean
  followIntervalMs: number
  fs: FileLayer
  logId: string | undefined
  start: { seq: number; chain: bigint }
  mustExist: boolean
}

function resolveOptions(dir: string | undefined, options: OpenLogOptions): Resolved {
  const durability = options.durability ?? 'fsync'
  if (durability !== 'fsync' && durability !== 'os' && durability !== 'memory') {
    throw new LogConfigError(`durability must be 'fsync', 'os' or 'memory', got ${JSON.stringify(durability)}`, {
      durability,
    })
  }
  if (durability !== 'memory' && (typeof dir !== 'string' || dir === '')) {
    throw new LogConfigError(`durability '${durability}' needs a directory`, { durability })
  }
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1024 || segmentBytes > 2 ** 31) {
    throw new LogConfigError(`segmentBytes must be an integer from 1024 to 2^31, got ${segmentBytes}`, { segmentBytes })
  }
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD
  if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 0 || maxPayloadBytes > MAX_FRAME_BODY - 64) {
    throw new LogConfigError(`maxPayloadBytes must be an integer from 0 to ${MAX_FRAME_BODY - 64}`, { maxPayloadBytes })
  }
  const followIntervalMs = options.followIntervalMs ?? 25
  if (!(followIntervalMs > 0)) throw new LogConfigError('followIntervalMs must be positive', { followIntervalMs })
  const logId = options.create?.logId
  if (logId !== undefined && !/^[0-9a-f]{32}$/.test(logId)) {
    throw new LogConfigError(`create.logId must be 32 lowercase hex digits, got ${JSON.stringify(logId)}`, { logId })
  }
  const startPos: Position = options.create?.start ?? { seq: 0, chain: '0000000000000000' }
  if (!Number.isSafeInteger(startPos.seq) || startPos.seq < 0) {
    throw new LogConfigError(`create.start.seq must be a non-negative integer, got ${startPos.seq}`, {
      seq: startPos.seq,
    })
  }
  let startChain: bigint
  try {
    startChain = chainFromHex(startPos.chain)
  } catch (error) {
    throw new LogConfigError((error as Error).message, { chain: startPos.chain })
  }
  return {
    durability,
    segmentBytes,
    maxPayloadBytes,
    readOnly: options.readOnly ?? false,
    followIntervalMs,
    fs: options.fileLayer ?? nodeFileLayer,
    logId,
    start: { seq: startPos.seq, chain: startChain },
    mustExist: options.mustExist ?? false,
  }
}

/**
 * Opens (or creates) the log in `dir`.
 *
 * @example
 * ```ts
 * import { openLog } from '@homedb/log'
 * const log = await openLog('./data/log', { durability: 'fsync' })
 * const seq = log.append(new TextEncoder().encode('hello'))
 * await log.sync() // durable now
 * for await (const { seq, payload } of log.read({ from: 0 })) console.log(seq, payload)
 * await log.close()
 * ```
 */
export async function openLog(dir: string | undefined, options: OpenLogOptions = {}): Promise<Log> {
  const o = resolveOptions(dir, options)
  try {
    return await openResolved(dir, o)
  } catch (error) {
    throw asLogError(error, 'open', { dir })
  }
}

async function openResolved(dir: string | undefined, o: Resolved): Promise<Log> {
  if (o.durability === 'memory') {
    return new HomeLog({
      dir,
      fs: undefined,
      durability: 'memory',
      readOnly: false,
      logId: o.logId ?? randomBytes(16).toString('hex'),
      segmentBytes: o.segmentBytes,
      maxPayloadBytes: o.maxPayloadBytes,
      followIntervalMs: o.followIntervalMs,
      segments: [],
      active: undefined,
      head: o.start,
      start: o.start,
      recovery: { truncatedBytes: 0, droppedCommits: 0 },
      releaseLock: undefined,
      snapshots: [],
    })
  }
  const fs = o.fs
  const path = dir as string
  if (o.readOnly || o.mustExist) {
    if ((await fs.size(path)) === undefined) {
      throw new LogConfigError(`no log at ${path}`, { dir: path })
    }
  } else {
    // The log directory is an entry in its parent (and a new parent in its own): fsync the parents so that the
    // directory cannot vanish in a power cut with acknowledged commits inside. Done at every writable open, as a
    // previous run may have created the directory and died before that fsync.
    const created: string[] = []
    for (let d = path; (await fs.size(d)) === undefined && dirname(d) !== d; d = dirname(d)) created.unshift(d)
    await fs.mkdir(path)
    for (const d of created.length > 0 ? created : [path]) await fs.syncDir(dirname(d))
  }
  const releaseLock = o.readOnly ? undefined : await acquireLock(fs, path)
  try {
    return await openFiles(path, o, releaseLock)
  } catch (error) {
    await releaseLock?.()
    throw error
  }
}

async function readHeader(fs: FileLayer, file: string): Promise<{ header: SegmentHeader | string; size: number }> {
  const handle = await fs.open(file, 'r')
  try {
    return { header: await readSegmentHeader(handle), size: await handle.size() }
  } finally {
    await handle.close()
  }
}

async function openFiles(dir: string, o: Resolved, releaseLock: (() => Promise<void>) | undefined): Promise<Log> {
  const fs = o.fs
  const writable = !o.readOnly
  const names = await fs.readdir(dir)
  if (writable) {
    for (const name of names) if (name.endsWith(TEMP_SUFFIX)) await fs.unlink(join(dir, name))
  }
  const numbers = names
    .map(parseSegmentFileName)
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b)
  const snapshots = await listSnapshots(fs, dir)
  const recovery: RecoveryReport = { truncatedBytes: 0, droppedCommits: 0 }
  const segments: SegmentRef[] = []
  let logId: string | undefined
  /** A last segment deleted because its header never became durable (see below). */
  let tornCreation: string | undefined

  for (const [i, number] of numbers.entries()) {
    const name = segmentFileName(number)
    const { header, size } = await readHeader(fs, join(dir, name))
    const isLast = i === numbers.length - 1
    if (typeof header === 'string') {
      // A header that never became durable: the crash hit while this (last) segment was being created.
      const previous = segments[segments.length - 1]?.number
      if (isTornCreation({ number, size, isLast, previous, snapshots: snapshots.length > 0 })) {
        tornCreation = name
        if (writable) {
          await fs.unlink(join(dir, name))
          await fs.syncDir(dir)
          recovery.truncatedBytes += size
        }
        continue
      }
      throw new LogCorruptionError(`segment ${name} has a damaged header (${header})`, { dir, file: name, offset: 0 })
    }
    if (logId !== undefined && header.logId !== logId) {
      throw new LogCorruptionError(`segment ${name} belongs to log ${header.logId}, not ${logId}`, {
        dir,
        file: name,
        offset: 16,
      })
    }
    if (header.number !== number) {
      throw new LogCorruptionError(`segment ${name} says it is number ${header.number}`, {
        dir,
        file: name,
        offset: 12,
      })
    }
    const prev = segments[segments.length - 1]
    if (prev && header.baseSeq < prev.baseSeq) {
      throw new LogCorruptionError(`segment ${name} starts at seq ${header.baseSeq}, before the previous segment`, {
        dir,
        file: name,
        offset: 32,
        seq: header.baseSeq,
      })
    }
    logId = header.logId
    segments.push({ number, name, baseSeq: header.baseSeq, baseChain: header.baseChain })
  }

  if (segments.length === 0) {
    if (!writable) throw new LogConfigError(`no log at ${dir}`, { dir })
    if (o.mustExist) throw new LogConfigError(`no log at ${dir}`, { dir })
    const header = {
      number: 1,
      logId: o.logId ?? randomBytes(16).toString('hex'),
      baseSeq: o.start.seq,
      baseChain: o.start.chain,
    }
    const handle = await createSegment(fs, dir, header)
    return new HomeLog({
      dir,
      fs,
      durability: o.durability,
      readOnly: false,
      logId: header.logId,
      segmentBytes: o.segmentBytes,
      maxPayloadBytes: o.maxPayloadBytes,
      followIntervalMs: o.followIntervalMs,
      segments: [{ number: 1, name: segmentFileName(1), baseSeq: header.baseSeq, baseChain: header.baseChain }],
      active: { handle, validEnd: SEGMENT_HEADER_BYTES, sealed: false },
      head: { seq: header.baseSeq, chain: header.baseChain },
      start: { seq: header.baseSeq, chain: header.baseChain },
      recovery,
      releaseLock,
      snapshots,
    })
  }

  const last = segments[segments.length - 1]!
  const handle = await fs.open(join(dir, last.name), writable ? 'r+' : 'r')
  let scan: SegmentScan
  try {
    const size = await handle.size()
    scan = await scanSegment(handle, { ...last, logId: logId! }, size, writable)
    if (tornCreation !== undefined && (scan.stop !== 'eof' || !scan.sealed)) {
      // The next segment was being created, so this one had been sealed and fdatasync'ed: any damage is corruption.
      throw new LogCorruptionError(
        `segment ${last.name} is damaged at byte ${scan.validEnd} after seq ${scan.seq} (${scan.stop === 'eof' ? 'no seal' : scan.stop}), although ${tornCreation} was created after it was sealed`,
        { dir, file: last.name, offset: scan.validEnd, seq: scan.seq, problem: scan.stop },
      )
    }
    if (writable) {
      // A snapshot is written only after every commit up to its seq is durable: a valid one of this log beyond
      // what the segment holds proves that durable commits are damaged (e.g. a flipped bit in the last batch,
      // which no marker vouches for yet). Cutting there would put the log behind its own snapshot.
      for (const entry of snapshots) {
        if (entry.seq <= scan.seq) continue
        const checked = await checkSnapshotFile(fs, join(dir, entry.name))
        if ('problem' in checked || checked.header.logId !== logId || checked.header.seq !== entry.seq) continue
        throw new LogCorruptionError(
          `segment ${last.name} ends at seq ${scan.seq} (${scan.stop} at byte ${scan.validEnd}), but snapshot ${entry.name} proves commits up to seq ${entry.seq} were durable`,
          { dir, file: last.name, offset: scan.validEnd, seq: scan.seq, problem: scan.stop, snapshot: entry.name },
        )
      }
    }
    if (scan.stop !== 'eof') {
      const synced = Math.max(scan.maxSynced, scan.beyond.maxSynced)
      if (writable && scan.validEnd < synced) {
        throw new LogCorruptionError(
          `segment ${last.name} is damaged at byte ${scan.validEnd} after seq ${scan.seq} (${scan.stop}), inside data known to be durable (up to byte ${synced})`,
          { dir, file: last.name, offset: scan.validEnd, seq: scan.seq, problem: scan.stop, syncedTo: synced },
        )
      }
      if (writable) {
        // A torn tail: the last unsynced writes were cut short or reached the disk out of order.
        await handle.truncate(scan.validEnd)
        recovery.truncatedBytes += size - scan.validEnd
        recovery.droppedCommits += scan.beyond.commits
        recovery.cutAt = { file: last.name, offset: scan.validEnd }
      }
    }
    if (writable) {
      await handle.datasync()
      // A previous process may have died after creating this segment but before the directory fsync of its roll
      // (or after deleting files): make the names durable too before anything appended now is acknowledged.
      await fs.syncDir(dir)
    }
  } catch (error) {
    await handle.close().catch(() => undefined)
    throw error
  }

  let active = { handle, validEnd: scan.validEnd, sealed: scan.sealed }
  const logIdValue = logId!
  if (writable && scan.sealed) {
    // The previous run sealed this segment but crashed before the next one existed: start it now.
    await handle.close()
    const header = { number: last.number + 1, logId: logIdValue, baseSeq: scan.seq, baseChain: scan.chain }
    const next = await createSegment(fs, dir, header)
    segments.push({
      number: header.number,
      name: segmentFileName(header.number),
      baseSeq: scan.seq,
      baseChain: scan.chain,
    })
    active = { handle: next, validEnd: SEGMENT_HEADER_BYTES, sealed: false }
  }
  // After recovery, a snapshot file past the head is not of this history: a valid one would have refused the
  // writable open above, so it is damaged. It stays on disk (verifyLog reports it), but it is not this log's latest
  // snapshot, or it would refuse every new snapshot below its seq; a snapshot at its seq replaces it.
  const usableSnapshots = writable ? snapshots.filter((s) => s.seq <= scan.seq) : snapshots
  const first = segments[0]!
  return new HomeLog({
    dir,
    fs,
    durability: o.durability,
    readOnly: o.readOnly,
    logId: logIdValue,
    segmentBytes: o.segmentBytes,
    maxPayloadBytes: o.maxPayloadBytes,
    followIntervalMs: o.followIntervalMs,
    segments,
    active,
    head: { seq: scan.seq, chain: scan.chain },
    start: { seq: first.baseSeq, chain: first.baseChain },
    recovery,
    releaseLock,
    snapshots: usableSnapshots,
  })
}
