// Reads the commit frames of a @homedb/log directory back from its segment files, byte for byte, so a baseline can
// write or checksum exactly the bytes the log wrote (layout: packages/log/FORMAT.md).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Bytes of a segment header and of a frame header (FORMAT.md). */
export const SEGMENT_HEADER_BYTES = 64
export const FRAME_HEADER_BYTES = 28
const COMMIT = 1

/** The segment files of a log directory, in order. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^segment-\d+\.log$/.test(name))
    .sort()
    .map((name) => join(dir, name))
}

/** Calls `each(frame, start, end, type)` for every frame of a segment's bytes (header skipped, zeros end it). */
export function forEachFrame(
  bytes: Buffer,
  each: (bytes: Buffer, start: number, end: number, type: number) => void,
): void {
  let offset = SEGMENT_HEADER_BYTES
  while (offset + 8 <= bytes.byteLength) {
    const body = bytes.readUInt32LE(offset)
    if (body === 0) break
    const end = offset + 8 + body
    if (end > bytes.byteLength) break
    each(bytes, offset, end, bytes[offset + 8]!)
    offset = end
  }
}

/** Every commit frame of the log in `dir`, as copies of the stored bytes. */
export function commitFrames(dir: string): Buffer[] {
  const frames: Buffer[] = []
  for (const file of segmentFiles(dir)) {
    forEachFrame(readFileSync(file), (bytes, start, end, type) => {
      if (type === COMMIT) frames.push(Buffer.from(bytes.subarray(start, end)))
    })
  }
  return frames
}
