// Snapshot files: written to a temp name, fsynced, renamed and the directory fsynced; read back only if every
// chunk and the trailer check out, so a torn snapshot is ignored, never half-loaded.
import { join } from 'node:path'
import { LogSnapshotError } from '../errors.js'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import type { Snapshot } from '../types.js'
import {
  chainToHex,
  chunkCrc,
  decodeSnapshotHeader,
  decodeSnapshotTrailer,
  encodeChunkHeader,
  encodeSnapshotHeader,
  encodeSnapshotTrailer,
  MAX_SNAPSHOT_CHUNK,
  parseSnapshotFileName,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_RECORD_HEADER,
  SNAPSHOT_RECORD_OFFSET,
  SNAPSHOT_TRAILER_BYTES,
  SNAPSHOT_TRAILER_MARK,
  type SnapshotHeader,
  snapshotFileName,
  TEMP_SUFFIX,
} from './format.js'
import { closeQuietly, isNotFound, readFully, writeFully } from './io.js'

/** A snapshot file found in the directory: its name and the seq the name claims (the file is checked when loaded). */
export interface ListedSnapshot {
  readonly name: string
  readonly seq: number
}

/** A snapshot file known to be complete: written here, or checked when it was loaded. */
export interface CheckedSnapshot extends ListedSnapshot {
  readonly chain: bigint
  /** Payload bytes (sum of chunks). */
  readonly bytes: number
}

/** Writes a snapshot durably (FORMAT.md › Snapshot file › Writing) and returns what it wrote. */
export async function writeSnapshotFile(
  fs: FileLayer,
  dir: string,
  header: SnapshotHeader,
  chunks: AsyncIterable<Uint8Array>,
): Promise<CheckedSnapshot> {
  const name = snapshotFileName(header.seq)
  const temp = join(dir, name + TEMP_SUFFIX)
  await fs.unlink(temp).catch(() => undefined)
  const handle = await fs.open(temp, 'wx')
  let offset = 0
  let bytes = 0
  let count = 0
  const put = async (buf: Uint8Array) => {
    await writeFully(handle, buf, offset)
    offset += buf.byteLength
  }
  try {
    await put(encodeSnapshotHeader(header))
    for await (const chunk of chunks) {
      for (let start = 0; start < chunk.byteLength; start += MAX_SNAPSHOT_CHUNK) {
        const piece = chunk.subarray(start, Math.min(chunk.byteLength, start + MAX_SNAPSHOT_CHUNK))
        await put(encodeChunkHeader(piece))
        await put(piece)
        bytes += piece.byteLength
        count++
      }
    }
    await put(encodeSnapshotTrailer(bytes, count))
    await handle.sync()
    await handle.close()
  } catch (error) {
    await closeQuietly(handle)
    await fs.unlink(temp).catch(() => undefined)
    throw error
  }
  await fs.rename(temp, join(dir, name))
  await fs.syncDir(dir)
  return { name, seq: header.seq, chain: header.chain, bytes }
}

/** Snapshot files in the directory by name, oldest first (validity is checked when loaded). */
export async function listSnapshots(fs: FileLayer, dir: string): Promise<ListedSnapshot[]> {
  return snapshotsIn(await fs.readdir(dir))
}

/** The snapshot files among a directory's `names`, oldest first. */
export function snapshotsIn(names: readonly string[]): ListedSnapshot[] {
  const entries: ListedSnapshot[] = []
  for (const name of names) {
    const seq = parseSnapshotFileName(name)
    if (seq !== undefined) entries.push({ name, seq })
  }
  return entries.sort((a, b) => a.seq - b.seq)
}

/** Why a snapshot file is not complete: gone, or the first part that does not check out. */
export type SnapshotProblem = 'missing' | 'header' | 'chunk' | 'trailer' | 'trailing-bytes'

/** What reading a snapshot file through found: its header and totals, or the first problem and its offset. */
type SnapshotWalk =
  | { header: SnapshotHeader; bytes: number; chunks: number }
  | { problem: SnapshotProblem; offset: number }

/**
 * Reads a snapshot file from its start: the header (refused if `accept` says no), each chunk, yielded once its CRC
 * checks out, then the trailer, which must match the totals. With `size`, nothing past it is read (a damaged length
 * cannot make the reader allocate what the file cannot hold) and the trailer must end the file.
 */
async function* walkSnapshot(
  handle: FileHandleLike,
  size: number | undefined,
  accept: (header: SnapshotHeader) => boolean = () => true,
): AsyncGenerator<Uint8Array, SnapshotWalk> {
  const header = decodeSnapshotHeader(await readFully(handle, 0, SNAPSHOT_HEADER_BYTES))
  if (typeof header === 'string' || !accept(header)) return { problem: 'header', offset: 0 }
  let offset = SNAPSHOT_HEADER_BYTES
  let bytes = 0
  let chunks = 0
  for (;;) {
    const rec = await readFully(handle, offset, SNAPSHOT_RECORD_HEADER)
    if (rec.byteLength < SNAPSHOT_RECORD_HEADER) return { problem: 'trailer', offset }
    const length = rec.readUInt32LE(SNAPSHOT_RECORD_OFFSET.length)
    if (length === SNAPSHOT_TRAILER_MARK) {
      const trailer = decodeSnapshotTrailer(await readFully(handle, offset, SNAPSHOT_TRAILER_BYTES))
      if (!trailer || trailer.totalBytes !== bytes || trailer.chunks !== chunks) return { problem: 'trailer', offset }
      if (size !== undefined && offset + SNAPSHOT_TRAILER_BYTES !== size) {
        return { problem: 'trailing-bytes', offset: offset + SNAPSHOT_TRAILER_BYTES }
      }
      return { header, bytes, chunks }
    }
    if (length > MAX_SNAPSHOT_CHUNK || (size !== undefined && offset + SNAPSHOT_RECORD_HEADER + length > size)) {
      return { problem: 'chunk', offset }
    }
    const data = await readFully(handle, offset + SNAPSHOT_RECORD_HEADER, length)
    const crc = rec.readUInt32LE(SNAPSHOT_RECORD_OFFSET.crc)
    if (data.byteLength !== length || chunkCrc(data) !== crc) return { problem: 'chunk', offset }
    bytes += length
    chunks++
    offset += SNAPSHOT_RECORD_HEADER + length
    yield data
  }
}

/** Reads the whole file and checks header, every chunk CRC and the trailer. */
export async function checkSnapshotFile(
  fs: FileLayer,
  path: string,
): Promise<{ header: SnapshotHeader; bytes: number; chunks: number } | { problem: SnapshotProblem; offset: number }> {
  let handle: FileHandleLike
  try {
    handle = await fs.open(path, 'r')
  } catch (error) {
    // Only a file that is not there is missing; an I/O error is not an answer about the snapshot.
    if (isNotFound(error)) return { problem: 'missing', offset: 0 }
    throw error
  }
  try {
    const walk = walkSnapshot(handle, await handle.size())
    for (;;) {
      const next = await walk.next()
      if (next.done) return next.value
    }
  } finally {
    await closeQuietly(handle)
  }
}

/**
 * Loads a snapshot if it is complete and belongs to `logId` at the seq its name claims; `undefined` for a torn,
 * damaged or foreign one. Its chunks are checked again as they are read (the name may point to another file by then).
 */
export async function loadSnapshot(
  fs: FileLayer,
  dir: string,
  entry: ListedSnapshot,
  logId: string,
): Promise<Snapshot | undefined> {
  const path = join(dir, entry.name)
  const checked = await checkSnapshotFile(fs, path)
  if ('problem' in checked) return undefined
  if (checked.header.logId !== logId || checked.header.seq !== entry.seq) return undefined
  const expected = checked
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let handle: FileHandleLike
    try {
      handle = await fs.open(path, 'r')
    } catch (error) {
      if (!isNotFound(error)) throw error // an I/O error, not a replaced snapshot
      throw new LogSnapshotError(`snapshot ${entry.name} is gone (a newer one replaced it)`, {
        dir,
        file: entry.name,
        cause: error,
      })
    }
    const changed = (offset: number) =>
      new LogSnapshotError(`snapshot ${entry.name} changed while being read`, { dir, file: entry.name, offset })
    try {
      // The name may point to another file by now (a snapshot at the same seq written again, chunked differently):
      // check this copy as it is read — header, every chunk, trailer — and take no count or length from the first look.
      const walk = walkSnapshot(
        handle,
        undefined,
        (header) =>
          header.logId === logId && header.seq === expected.header.seq && header.chain === expected.header.chain,
      )
      for (;;) {
        const next = await walk.next()
        if (!next.done) {
          yield next.value
          continue
        }
        const result = next.value
        if ('problem' in result) throw changed(result.offset)
        if (result.bytes !== expected.bytes) {
          throw changed(SNAPSHOT_HEADER_BYTES + result.chunks * SNAPSHOT_RECORD_HEADER + result.bytes)
        }
        return
      }
    } finally {
      await closeQuietly(handle)
    }
  }
  return {
    logId,
    seq: checked.header.seq,
    chain: chainToHex(checked.header.chain),
    bytes: checked.bytes,
    file: entry.name,
    chunks,
    async payload() {
      const parts: Uint8Array[] = []
      for await (const c of chunks()) parts.push(c)
      return Buffer.concat(parts)
    },
  }
}
