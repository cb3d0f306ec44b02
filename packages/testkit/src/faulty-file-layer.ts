// A file layer for tests, built with wrapFileLayer over another one (normally the real node:fs layer): counts every
// call per operation, and fails chosen calls with an injected I/O error (EIO, ENOSPC, …) — a real `Error` with
// `code`, `errno` and `syscall`, as node:fs throws.
//
//   const layer = new FaultyFileLayer(nodeFileLayer)
//   const log = await openLog(dir, { fileLayer: layer })
//   layer.arm({ op: 'datasync', code: 'EIO' })          // the next datasync fails
//   layer.arm({ op: 'open', nth: 2, when: (c) => c.mode === 'wx' && isSegment(c.path) })
//   layer.counts.datasync                               // calls so far
import { basename } from 'node:path'
import type { FileHandleLike, FileLayer, OpenMode } from './file-layer-shape.js'
import { wrapFileLayer } from './wrap-file-layer.js'

/**
 * Every operation counted. Handle operations: `read`, `write`, `datasync`, `sync`, `truncate`, `size` (of an open
 * file), `close`. Layer operations: `open`, `readdir`, `mkdir`, `rename`, `unlink`, `syncDir`, and `stat`
 * (`FileLayer.size(path)`, kept apart from the handle's `size`).
 */
export const FILE_OPS = [
  'open',
  'read',
  'write',
  'datasync',
  'sync',
  'truncate',
  'size',
  'close',
  'readdir',
  'mkdir',
  'rename',
  'unlink',
  'syncDir',
  'stat',
] as const
/** One of {@link FILE_OPS}. */
export type FileOp = (typeof FILE_OPS)[number]

/** One call as the fault matcher sees it. `path` is the file the call is about (for rename: the source). */
export interface FileCall {
  readonly op: FileOp
  readonly path: string
  /** `open` only. */
  readonly mode?: OpenMode
  /** `open` only: the open asked for durable writes (`{ dsync: true }`). */
  readonly dsync?: boolean
  /** `rename` only. */
  readonly to?: string
  /** `read`/`write`: bytes asked for; `truncate`: the new length. */
  readonly length?: number
  /** `read`/`write`: file position. */
  readonly position?: number
}

/** A fault to arm: which calls it counts, which one it fails, and how. */
export interface FaultSpec {
  /** The operation (or any of the operations) whose calls count. */
  op: FileOp | readonly FileOp[]
  /** Fail the nth matching call counted from when the fault is armed (default 1: the next one). */
  nth?: number
  /** Error code to throw (default `'EIO'`). */
  code?: string
  /** Only calls for which this returns true are counted and can fail. */
  when?: (call: FileCall) => boolean
  /** Keep failing every later matching call too (a disk that stays broken). Default: fail once. */
  persistent?: boolean
  /** `write` only: write the first half of the bytes for real, then throw (a short write cut by the error). */
  torn?: boolean
}

/** An armed fault: `fired` lists the calls it failed. */
export interface Fault {
  readonly spec: FaultSpec
  readonly fired: FileCall[]
  /** Stops it from firing again. */
  disarm(): void
}

const ERRNO: Record<string, number> = { EIO: -5, ENOSPC: -28, EBADF: -9, EACCES: -13, EROFS: -30, EDQUOT: -122 }

/** The error node:fs would throw for `code` on `call`. */
export function ioError(code: string, call: FileCall): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `${code}: injected fault, ${call.op} '${call.path}'${call.to ? ` -> '${call.to}'` : ''}`,
  )
  error.code = code
  error.errno = ERRNO[code] ?? -5
  error.syscall = call.op === 'syncDir' ? 'fsync' : call.op === 'stat' ? 'stat' : call.op
  error.path = call.path
  return error
}

/** True for a segment file path (`segment-00000001.log`). */
export const isSegment = (path: string): boolean => /^segment-\d+\.log$/.test(basename(path))
/** True for a snapshot file path, complete or temporary. */
export const isSnapshot = (path: string): boolean => /^snapshot-\d+\.snap(\.tmp)?$/.test(basename(path))

interface ArmedFault extends Fault {
  seen: number
  active: boolean
}

/** See the file header. */
export class FaultyFileLayer implements FileLayer {
  /** Calls per operation since construction or the last {@link resetCounts}. */
  readonly counts: Record<FileOp, number>
  /** Every call in order, if constructed with `{ record: true }`. */
  readonly calls: FileCall[] = []
  /** Paths of handles opened through this layer and not closed yet (a leak check after `close()`). */
  readonly openHandles = new Map<FileHandleLike, string>()
  /** Called for every call, before any fault is considered (observers, e.g. "did compaction unlink yet?"). */
  onCall: ((call: FileCall) => void) | undefined
  readonly open: FileLayer['open']
  readonly readdir: FileLayer['readdir']
  readonly mkdir: FileLayer['mkdir']
  readonly rename: FileLayer['rename']
  readonly unlink: FileLayer['unlink']
  readonly syncDir: FileLayer['syncDir']
  readonly size: FileLayer['size']
  readonly watch?: NonNullable<FileLayer['watch']>
  readonly #faults: ArmedFault[] = []
  readonly #record: boolean

  constructor(inner: FileLayer, options: { record?: boolean } = {}) {
    this.#record = options.record ?? false
    this.counts = Object.fromEntries(FILE_OPS.map((op) => [op, 0])) as Record<FileOp, number>
    const layer = wrapFileLayer(inner, {
      open: (path, mode, options) =>
        this.run(options?.dsync ? { op: 'open', path, mode, dsync: true } : { op: 'open', path, mode }, () =>
          inner.open(path, mode, options),
        ),
      readdir: (dir) => this.run({ op: 'readdir', path: dir }, () => inner.readdir(dir)),
      mkdir: (dir) => this.run({ op: 'mkdir', path: dir }, () => inner.mkdir(dir)),
      rename: (from, to) => this.run({ op: 'rename', path: from, to }, () => inner.rename(from, to)),
      unlink: (path) => this.run({ op: 'unlink', path }, () => inner.unlink(path)),
      syncDir: (dir) => this.run({ op: 'syncDir', path: dir }, () => inner.syncDir(dir)),
      size: (path) => this.run({ op: 'stat', path }, () => inner.size(path)),
      handle: (handle, path) => this.#faultyHandle(handle, path),
    })
    this.open = layer.open
    this.readdir = layer.readdir
    this.mkdir = layer.mkdir
    this.rename = layer.rename
    this.unlink = layer.unlink
    this.syncDir = layer.syncDir
    this.size = layer.size
    if (layer.watch) this.watch = layer.watch
  }

  resetCounts(): void {
    for (const op of FILE_OPS) this.counts[op] = 0
    this.calls.length = 0
  }

  /** Arms a fault; see {@link FaultSpec}. */
  arm(spec: FaultSpec): Fault {
    const fault: ArmedFault = {
      spec,
      fired: [],
      seen: 0,
      active: true,
      disarm: () => {
        fault.active = false
      },
    }
    this.#faults.push(fault)
    return fault
  }

  disarmAll(): void {
    for (const f of this.#faults) f.active = false
    this.#faults.length = 0
  }

  /** Every call a fault failed, in order. */
  get injected(): FileCall[] {
    return this.#faults.flatMap((f) => f.fired)
  }

  /** Counts `call` and returns the fault to inject, if one is due. Every wrapped operation goes through here. */
  intercept(call: FileCall): FaultSpec | undefined {
    this.counts[call.op]++
    if (this.#record) this.calls.push(call)
    this.onCall?.(call)
    let due: FaultSpec | undefined
    for (const fault of this.#faults) {
      if (!fault.active || !matches(fault.spec, call)) continue
      fault.seen++
      const nth = fault.spec.nth ?? 1
      if (fault.seen === nth || (fault.spec.persistent && fault.seen > nth)) {
        fault.fired.push(call)
        if (!fault.spec.persistent) fault.active = false
        due ??= fault.spec
      }
    }
    return due
  }

  /** Runs `call` through the faults, then `real` if none fired. */
  async run<T>(call: FileCall, real: () => Promise<T>): Promise<T> {
    const fault = this.intercept(call)
    if (fault) throw ioError(fault.code ?? 'EIO', call)
    return real()
  }

  #faultyHandle(handle: FileHandleLike, path: string): Partial<FileHandleLike> {
    this.openHandles.set(handle, path)
    return {
      read: (buffer, offset, length, position) =>
        this.run({ op: 'read', path, length, position }, () => handle.read(buffer, offset, length, position)),
      write: async (buffer, offset, length, position) => {
        const call: FileCall = { op: 'write', path, length, position }
        const fault = this.intercept(call)
        if (!fault) return handle.write(buffer, offset, length, position)
        const half = Math.floor(length / 2)
        if (fault.torn && half > 0) await handle.write(buffer, offset, half, position)
        throw ioError(fault.code ?? 'EIO', call)
      },
      ...(handle.writeSync === undefined ? {} : { writeSync: this.#faultyWriteSync(handle, path) }),
      datasync: () => this.run({ op: 'datasync', path }, () => handle.datasync()),
      sync: () => this.run({ op: 'sync', path }, () => handle.sync()),
      truncate: (length) => this.run({ op: 'truncate', path, length }, () => handle.truncate(length)),
      size: () => this.run({ op: 'size', path }, () => handle.size()),
      close: async () => {
        // Like close(2), a failing close still releases the descriptor: close for real, then report the fault.
        const fault = this.intercept({ op: 'close', path })
        await handle.close()
        this.openHandles.delete(handle)
        if (fault) throw ioError(fault.code ?? 'EIO', { op: 'close', path })
      },
    }
  }

  /** The handle's `writeSync`, faulted like `write` (same `op`: a fault spec hits either way of writing). */
  #faultyWriteSync(handle: FileHandleLike, path: string): NonNullable<FileHandleLike['writeSync']> {
    const writeSync = handle.writeSync!.bind(handle)
    return (buffer, offset, length, position) => {
      const call: FileCall = { op: 'write', path, length, position }
      const fault = this.intercept(call)
      if (!fault) return writeSync(buffer, offset, length, position)
      const half = Math.floor(length / 2)
      if (fault.torn && half > 0) writeSync(buffer, offset, half, position)
      throw ioError(fault.code ?? 'EIO', call)
    }
  }
}

function matches(spec: FaultSpec, call: FileCall): boolean {
  const ops: readonly FileOp[] = typeof spec.op === 'string' ? [spec.op] : spec.op
  return ops.includes(call.op) && (spec.when === undefined || spec.when(call))
}
