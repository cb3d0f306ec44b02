// The one door through which @homedb/log touches the file system, so tests can count calls and inject faults.
import { constants, watch as fsWatch, writeSync as fsWriteSync } from 'node:fs'
import * as fsp from 'node:fs/promises'

/** An open file. Offsets are absolute (positional I/O). */
export interface FileHandleLike {
  /**
   * Optional: `true` when every `write` of this handle is durable once it resolves, as if an `fdatasync` of the
   * written range followed it (the file was opened with `{ dsync: true }` and the layer honours it, e.g. with
   * `O_DSYNC`). The log then skips the fdatasync after each batch it writes. Leave it unset, as every handle of a
   * layer that ignores `dsync` does, and the log fdatasyncs after each batch as usual.
   */
  readonly dsync?: boolean
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>
  /** Writes `buffer[offset, offset + length)` at `position`; the log may reuse `buffer` once the promise settles. */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>
  /**
   * Optional: the same write, done before it returns, on the calling thread (on a `dsync` handle, durable when it
   * returns). A writable log uses it to write a batch on the event loop where that is cheaper than a threadpool round
   * trip (see `inlineWrites` of `openLog`); without it every write goes through {@link write}. A failure throws, and
   * the log fails as for a rejected `write` (fail-stop).
   */
  writeSync?(buffer: Uint8Array, offset: number, length: number, position: number): number
  datasync(): Promise<void>
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  size(): Promise<number>
  close(): Promise<void>
}

/** Open modes: `'r'` read, `'r+'` read and write an existing file, `'wx'` create exclusively (fails if it exists). */
export type OpenMode = 'r' | 'r+' | 'wx'

/** Optional flags of {@link FileLayer.open}. */
export interface OpenOptions {
  /**
   * Asks for writes that are durable when they resolve (`O_DSYNC`), for `'r+'` and `'wx'`. A layer that cannot give
   * them ignores the flag and returns a handle without {@link FileHandleLike.dsync}; the log then fdatasyncs itself.
   */
  readonly dsync?: boolean
}

/** Every file operation @homedb/log performs. Implement it to simulate crashes or inject I/O errors. */
export interface FileLayer {
  /** Opens `path`; `options.dsync` may be ignored (see {@link OpenOptions}). */
  open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandleLike>
  readdir(dir: string): Promise<string[]>
  mkdir(dir: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** fsync of a directory, so that created, renamed and deleted names are durable. */
  syncDir(dir: string): Promise<void>
  /** Size of a file, or `undefined` if it does not exist. */
  size(path: string): Promise<number | undefined>
  /**
   * Optional: calls `onChange` soon after anything in `dir` changes (a write, a new or deleted file), so read-only
   * logs look for new commits at once instead of at their next poll. Without it they poll every `followIntervalMs`
   * only. The notice carries nothing: the log reads the files to learn what changed. Must not keep the process
   * alive; may stop calling after an error (polling goes on).
   */
  watch?(dir: string, onChange: () => void): { close(): void }
}

/**
 * The numeric flags of `'r+'` or `'wx'` plus `O_DSYNC` (a write returns once its data, and the metadata needed to
 * read it back, is on stable storage), or `undefined` where the platform has no `O_DSYNC` (Windows).
 */
function dsyncFlags(mode: 'r+' | 'wx'): number | undefined {
  const { O_DSYNC, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC } = constants
  if (O_DSYNC === undefined) return undefined
  return mode === 'r+' ? O_RDWR | O_DSYNC : O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_DSYNC
}

class NodeFileHandle implements FileHandleLike {
  constructor(
    private readonly handle: fsp.FileHandle,
    readonly dsync: boolean,
  ) {}
  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.handle.read(buffer, offset, length, position)).bytesRead
  }
  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.handle.write(buffer, offset, length, position)).bytesWritten
  }
  writeSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return fsWriteSync(this.handle.fd, buffer, offset, length, position)
  }
  datasync(): Promise<void> {
    return this.handle.datasync()
  }
  sync(): Promise<void> {
    return this.handle.sync()
  }
  truncate(length: number): Promise<void> {
    return this.handle.truncate(length)
  }
  async size(): Promise<number> {
    return (await this.handle.stat()).size
  }
  close(): Promise<void> {
    return this.handle.close()
  }
}

/**
 * The real file system (node:fs/promises).
 *
 * @example
 * ```ts
 * const log = await openLog(dir, { fileLayer: nodeFileLayer })
 * ```
 */
export const nodeFileLayer: FileLayer = {
  async open(path, mode, options) {
    const flags = options?.dsync === true && mode !== 'r' ? dsyncFlags(mode) : undefined
    if (flags === undefined) return new NodeFileHandle(await fsp.open(path, mode), false)
    return new NodeFileHandle(await fsp.open(path, flags, 0o666), true)
  },
  readdir: (dir) => fsp.readdir(dir),
  async mkdir(dir) {
    await fsp.mkdir(dir, { recursive: true })
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  async syncDir(dir) {
    const handle = await fsp.open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  },
  async size(path) {
    try {
      return (await fsp.stat(path)).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  },
  watch(dir, onChange) {
    // inotify on Linux, FSEvents/kqueue elsewhere; file systems without notices (some network mounts) just never
    // call back, and the log's polling covers them.
    const watcher = fsWatch(dir, { persistent: false }, () => onChange())
    watcher.on('error', () => watcher.close())
    return { close: () => watcher.close() }
  },
}
