// Positional reads and writes that finish the job: a file handle may read or write fewer bytes than asked (a
// signal, a short read at the end of a file), so every caller goes through these loops instead of its own copy.
import type { FileHandleLike, FileLayer, OpenMode } from '../file-layer.js'

/**
 * Reads `length` bytes at `position` into a fresh buffer, stopping early only at the end of the file (the result is
 * then shorter). A fresh buffer each time: views handed out from an earlier read stay valid.
 */
export async function readFully(handle: FileHandleLike, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    const n = await handle.read(buf, filled, length - filled, position + filled)
    if (n === 0) break
    filled += n
  }
  return filled === length ? buf : buf.subarray(0, filled)
}

/** Writes all of `bytes` at `position`, however many calls the handle needs. */
export async function writeFully(handle: FileHandleLike, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.byteLength) {
    done += await handle.write(bytes, done, bytes.byteLength - done, position + done)
  }
}

/** Writes all of `bytes` at `position` with the handle's `writeSync` (it must have one), in as many calls as it takes. */
export function writeFullySync(handle: FileHandleLike, bytes: Uint8Array, position: number): void {
  let done = 0
  while (done < bytes.byteLength) done += handle.writeSync!(bytes, done, bytes.byteLength - done, position + done)
}

/** True for the error a file system throws for a name that does not exist. */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}

/** Opens `path`, or returns `undefined` if it does not exist (any other error is thrown). */
export async function openIfExists(fs: FileLayer, path: string, mode: OpenMode): Promise<FileHandleLike | undefined> {
  try {
    return await fs.open(path, mode)
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** Closes a handle whose contents no longer matter: a failing close has nothing left to report. */
export async function closeQuietly(handle: FileHandleLike | undefined): Promise<void> {
  await handle?.close().catch(() => undefined)
}
