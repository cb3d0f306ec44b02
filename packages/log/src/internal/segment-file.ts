// Segment files as files: creating one durably with its header, and reading a segment's header back. The open,
// the roll, read-only following and verifyLog all go through these.
import { join } from 'node:path'
import type { FileHandleLike, FileLayer, OpenOptions } from '../file-layer.js'
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  type HeaderProblem,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
} from './format.js'
import { closeQuietly, readFully, writeFully } from './io.js'

/**
 * Creates segment `header.number` in `dir` and makes it durable (header written and fdatasynced, or written
 * through a dsync handle; directory fsynced) before returning its open handle, opened with `options` (`dsync` in
 * 'fsync' mode). With `preallocateBytes` the file is then given that length (zeros), after the header is durable,
 * so a file longer than a header always has its header (FORMAT.md › Writing). On failure the handle is closed and
 * the error rethrown.
 */
export async function createSegment(
  fs: FileLayer,
  dir: string,
  header: SegmentHeader,
  options: OpenOptions & { readonly preallocateBytes: number },
): Promise<FileHandleLike> {
  const handle = await fs.open(join(dir, segmentFileName(header.number)), 'wx', options)
  try {
    await writeFully(handle, encodeSegmentHeader(header), 0)
    if (handle.dsync !== true) await handle.datasync()
    if (options.preallocateBytes > SEGMENT_HEADER_BYTES) await handle.truncate(options.preallocateBytes)
    await fs.syncDir(dir)
    return handle
  } catch (error) {
    await closeQuietly(handle)
    throw error
  }
}

/** Reads and decodes the header of an open segment file (a problem if it is short or damaged). */
export async function readSegmentHeader(handle: FileHandleLike): Promise<SegmentHeader | HeaderProblem> {
  return decodeSegmentHeader(await readFully(handle, 0, SEGMENT_HEADER_BYTES))
}

/** Opens a segment file just to read its header and size. */
export async function readSegmentFile(
  fs: FileLayer,
  path: string,
): Promise<{ header: SegmentHeader | HeaderProblem; size: number }> {
  const handle = await fs.open(path, 'r')
  try {
    return { header: await readSegmentHeader(handle), size: await handle.size() }
  } finally {
    await handle.close()
  }
}
