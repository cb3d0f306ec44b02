// Segment files as files: creating one durably with its header, and reading a segment's header back. The open,
// the roll, read-only following and verifyLog all go through these.
import { join } from 'node:path'
import type { FileHandleLike, FileLayer } from '../file-layer.js'
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  type HeaderProblem,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  segmentFileName,
} from './format.js'

/**
 * Creates segment `header.number` in `dir` and makes it durable (header written and fdatasynced, directory
 * fsynced) before returning its open handle. On failure the handle is closed and the error rethrown.
 */
export async function createSegment(fs: FileLayer, dir: string, header: SegmentHeader): Promise<FileHandleLike> {
  const handle = await fs.open(join(dir, segmentFileName(header.number)), 'wx')
  try {
    const bytes = encodeSegmentHeader(header)
    await handle.write(bytes, 0, bytes.byteLength, 0)
    await handle.datasync()
    await fs.syncDir(dir)
    return handle
  } catch (error) {
    await handle.close().catch(() => undefined)
    throw error
  }
}

/** Reads and decodes the header of an open segment file (a problem if it is short or damaged). */
export async function readSegmentHeader(handle: FileHandleLike): Promise<SegmentHeader | HeaderProblem> {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES)
  const n = await handle.read(buf, 0, SEGMENT_HEADER_BYTES, 0)
  return decodeSegmentHeader(buf.subarray(0, n))
}

/**
 * Whether a segment whose header does not decode can be a creation that a crash cut short, rather than damage: it
 * is the last segment, holds no more than a header, and is either the log's first (no snapshot exists yet) or
 * directly follows an intact segment (a roll releases nothing before the new header is durable). Deleting any
 * other would restart the log at its base.
 */
export function isTornCreation(segment: {
  readonly number: number
  readonly size: number
  readonly isLast: boolean
  /** Number of the last intact segment before it, if any. */
  readonly previous: number | undefined
  readonly snapshots: boolean
}): boolean {
  const { number, size, isLast, previous, snapshots } = segment
  const creatable = previous !== undefined ? number === previous + 1 : number === 1 && !snapshots
  return isLast && size <= SEGMENT_HEADER_BYTES && creatable
}
