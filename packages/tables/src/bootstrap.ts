// Restoring a db's log from a source (a home server, via @homedb/replication's homeSource): the BootstrapSource
// interface, the log-level restoreLog (what `homedb restore` runs), and openDb's `bootstrap` option: an empty or
// missing dir is restored; a dir whose log is refused as damaged has its files moved aside (renamed, never
// deleted) and is restored; a healthy dir opens locally without asking the source anything.
import { join } from 'node:path'
import { type FileLayer, type Log, nodeFileLayer, openLog, type Position } from '@homedb/log'
import { TablesBootstrapError, TablesConfigError, TablesError } from './errors.js'

/** What a source holds: the log's id, where its commits start, its head, and its latest snapshot (if any). */
export interface BootstrapInfo {
  readonly logId: string
  /** Position before the oldest commit the source holds (commits at or below it are only in the snapshot). */
  readonly start: Position
  readonly head: Position
  readonly snapshot: (Position & { readonly bytes: number }) | null
}

/** One step of a restore, for progress bars and logs. */
export type RestoreProgress =
  | { readonly phase: 'moved-aside'; readonly files: readonly string[] }
  | { readonly phase: 'snapshot'; readonly seq: number; readonly bytes: number }
  | { readonly phase: 'frames'; readonly seq: number; readonly headSeq: number; readonly bytes: number }
  | { readonly phase: 'done'; readonly head: Position }

/**
 * Where a restore reads a log from: a snapshot and the encoded commits after it. @homedb/replication's
 * `homeSource` reads them from a home server; anything that can produce them (a file, an object store) can be one.
 */
export interface BootstrapSource {
  /** The log to restore. */
  describe(): Promise<BootstrapInfo>
  /** The chunks of the snapshot `describe()` named (in order; each checked by the source). */
  snapshotChunks(info: BootstrapInfo): AsyncIterable<Uint8Array>
  /** Encoded commit frames after `after`, in seq order, up to the head `describe()` named at least. */
  frames(after: { readonly logId: string } & Position): AsyncIterable<Uint8Array>
  /** Called at each step of a restore (optional). */
  onProgress?(event: RestoreProgress): void
}

/** Options of {@link restoreLog}. */
export interface RestoreOptions {
  readonly fileLayer?: FileLayer
  /** Move a healthy log aside too (by default a dir holding a log that opens is refused). */
  readonly force?: boolean
  /** Receives each step (in addition to the source's own `onProgress`). */
  readonly onProgress?: (event: RestoreProgress) => void
  /** Frames appended per batch before a sync (default 4 MiB). */
  readonly batchBytes?: number
}

/** What {@link restoreLog} did. */
export interface RestoreReport {
  readonly logId: string
  readonly head: Position
  /** Seq of the snapshot installed, or undefined if the source had none. */
  readonly snapshotSeq: number | undefined
  /** Commits appended after the snapshot. */
  readonly commits: number
  /** The new names of the files moved aside (in the same directory), empty if there were none. */
  readonly movedAside: readonly string[]
}

/** Present while a restore is under way; a dir holding it is never opened as a healthy log. */
export const RESTORE_MARKER = 'RESTORING'
const ASIDE = /^(damaged|restored-over)-\d+-/

/** What a directory holds, as far as bootstrapping cares. */
export async function dirState(fs: FileLayer, dir: string): Promise<'missing' | 'empty' | 'restoring' | 'present'> {
  if ((await fs.size(dir)) === undefined) return 'missing'
  const names = await fs.readdir(dir)
  if (names.includes(RESTORE_MARKER)) return 'restoring'
  return names.some((n) => !ASIDE.test(n) && n !== 'LOCK') ? 'present' : 'empty'
}

/** Refuses a directory that holds an interrupted restore (openDb without `bootstrap`). */
export async function assertNotRestoring(fs: FileLayer, dir: string): Promise<void> {
  if ((await fs.size(join(dir, RESTORE_MARKER))) === undefined) return
  throw new TablesBootstrapError(
    'TABLES_RESTORE_INCOMPLETE',
    `${dir} holds an interrupted restore: open it with a bootstrap source to finish it`,
    { dir },
  )
}

/** Renames every file of the directory (but LOCK and what was moved aside before) to `<prefix>-<time>-<name>`. */
async function moveAside(fs: FileLayer, dir: string, prefix: string, stamp: number): Promise<string[]> {
  const moved: string[] = []
  for (const name of await fs.readdir(dir)) {
    if (ASIDE.test(name) || name === 'LOCK' || name === RESTORE_MARKER) continue
    const to = `${prefix}-${stamp}-${name}`
    await fs.rename(join(dir, name), join(dir, to))
    moved.push(to)
  }
  await fs.syncDir(dir)
  return moved
}

/** Deletes what an interrupted restore left (copies of the source's data, nothing else). */
async function clearPartial(fs: FileLayer, dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (ASIDE.test(name) || name === 'LOCK' || name === RESTORE_MARKER) continue
    await fs.unlink(join(dir, name))
  }
  await fs.syncDir(dir)
}

async function writeMarker(fs: FileLayer, dir: string): Promise<void> {
  await fs.mkdir(dir)
  const handle = await fs.open(join(dir, RESTORE_MARKER), 'wx')
  try {
    const text = Buffer.from(`restore started ${new Date().toISOString()}\n`)
    await handle.write(text, 0, text.byteLength, 0)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.syncDir(dir)
}

async function isHealthy(fs: FileLayer, dir: string): Promise<boolean> {
  try {
    const log = await openLog(dir, { fileLayer: fs, mustExist: true })
    await log.close()
    return true
  } catch {
    return false
  }
}

/**
 * Restores the log in `dir` from `source`: moves what the directory holds aside (renamed in place, never deleted;
 * a healthy log only with `force`), then creates the log with the source's id and start, installs its snapshot,
 * appends its frames (each checked: CRC, seq, chain) in bounded batches, and syncs. A `RESTORING` marker makes the
 * restore all or nothing: until it is removed at the end, the directory never opens as a healthy log.
 *
 * @example
 * ```ts check
 * import { homeSource } from '@homedb/replication'
 *
 * const report = await restoreLog('./data/core', homeSource({ home, user: 'alice', token }))
 * console.log(report.head.seq, report.movedAside)
 * ```
 */
export async function restoreLog(
  dir: string,
  source: BootstrapSource,
  options: RestoreOptions = {},
): Promise<RestoreReport> {
  const fs = options.fileLayer ?? nodeFileLayer
  const progress = (event: RestoreProgress) => {
    source.onProgress?.(event)
    options.onProgress?.(event)
  }
  const state = await dirState(fs, dir)
  let movedAside: string[] = []
  if (state === 'restoring') await clearPartial(fs, dir)
  if (state === 'present') {
    if (!options.force && (await isHealthy(fs, dir))) {
      throw new TablesBootstrapError('TABLES_BOOTSTRAP', `${dir} holds a healthy log; nothing was restored`, { dir })
    }
    movedAside = await moveAside(fs, dir, 'damaged', Date.now())
    progress({ phase: 'moved-aside', files: movedAside })
  }
  if (state !== 'restoring') await writeMarker(fs, dir)
  const report = await restoreInto(fs, dir, source, options.batchBytes ?? 4 * 1024 * 1024, progress)
  await fs.unlink(join(dir, RESTORE_MARKER))
  await fs.syncDir(dir)
  progress({ phase: 'done', head: report.head })
  return { ...report, movedAside }
}

async function restoreInto(
  fs: FileLayer,
  dir: string,
  source: BootstrapSource,
  batchBytes: number,
  progress: (event: RestoreProgress) => void,
): Promise<Omit<RestoreReport, 'movedAside'>> {
  let info: BootstrapInfo
  try {
    info = await source.describe()
  } catch (cause) {
    throw new TablesBootstrapError(
      'TABLES_BOOTSTRAP',
      `the bootstrap source failed: ${(cause as Error)?.message}`,
      { dir },
      { cause },
    )
  }
  const base = info.snapshot ?? info.start
  const log = await openLog(dir, {
    fileLayer: fs,
    create: { logId: info.logId, start: { seq: base.seq, chain: base.chain } },
  })
  try {
    if (info.snapshot !== null) {
      await log.snapshot(source.snapshotChunks(info), info.snapshot.seq)
      progress({ phase: 'snapshot', seq: info.snapshot.seq, bytes: info.snapshot.bytes })
    }
    const commits = await appendFrames(log, source, info, batchBytes, progress)
    await log.sync()
    const head = log.head
    await log.close()
    return { logId: info.logId, head, snapshotSeq: info.snapshot?.seq, commits }
  } catch (cause) {
    await log.close().catch(() => undefined)
    if (cause instanceof TablesError) throw cause
    throw new TablesBootstrapError(
      'TABLES_BOOTSTRAP',
      `restoring ${dir} failed: ${(cause as Error)?.message}`,
      { dir },
      { cause },
    )
  }
}

async function appendFrames(
  log: Log,
  source: BootstrapSource,
  info: BootstrapInfo,
  batchBytes: number,
  progress: (event: RestoreProgress) => void,
): Promise<number> {
  let batch: Uint8Array[] = []
  let bytes = 0
  let total = 0
  let commits = 0
  const flush = async () => {
    if (batch.length === 0) return
    log.appendEncoded(batch)
    commits += batch.length
    batch = []
    bytes = 0
    await log.sync()
    progress({ phase: 'frames', seq: log.head.seq, headSeq: info.head.seq, bytes: total })
  }
  for await (const frame of source.frames({ logId: info.logId, ...log.head })) {
    batch.push(frame)
    bytes += frame.byteLength
    total += frame.byteLength
    if (bytes >= batchBytes) await flush()
  }
  await flush()
  return commits
}

/**
 * True for the errors that mean the local files are damaged, which a restore from another copy heals: a log refused
 * as corrupt (`LOG_CORRUPT`), or one whose state cannot be rebuilt because commits are missing from it (no snapshot
 * covers its start, or its snapshot is ahead of it: `context.incomplete`). Not a commit that does not apply
 * (`TABLES_CORRUPT_OP` otherwise): the source holds the same frames byte for byte, so a restore would bring it back.
 */
export function isDamage(error: unknown): boolean {
  if (!(error instanceof TablesError)) return false
  if (error.context.logCode === 'LOG_CORRUPT') return true
  return error.code === 'TABLES_CORRUPT_OP' && error.context.incomplete === true
}

/** openDb with `bootstrap`: restore when the dir is empty, missing, half-restored or damaged; else open locally. */
export async function openWithBootstrap<T>(
  dir: string | undefined,
  fileLayer: FileLayer | undefined,
  source: BootstrapSource,
  open: () => Promise<T>,
): Promise<T> {
  if (dir === undefined) throw new TablesConfigError('bootstrap needs a dir')
  if (typeof source?.describe !== 'function' || typeof source.frames !== 'function') {
    throw new TablesConfigError('bootstrap takes a BootstrapSource (describe, snapshotChunks, frames)')
  }
  const fs = fileLayer ?? nodeFileLayer
  const state = await dirState(fs, dir)
  if (state !== 'present') {
    await restoreLog(dir, source, { fileLayer: fs })
    return open()
  }
  try {
    return await open()
  } catch (error) {
    if (!isDamage(error)) throw error
    await restoreLog(dir, source, { fileLayer: fs, force: true })
    return open()
  }
}
