// A FileLayer for tests that wraps another one (the real node:fs layer by default), counts every call per
// operation, and fails chosen calls with an injected I/O error (EIO, ENOSPC, …) — a real `Error` with `code`,
// `errno` and `syscall`, as node:fs throws. Reusable by every torture test that needs to count or break I/O.
//
//   const layer = new FaultyFileLayer()
//   const log = await openLog(dir, { fileLayer: layer })
//   layer.arm({ op: 'datasync', code: 'EIO' })          // the next datasync fails
//   layer.arm({ op: 'open', nth: 2, when: (c) => c.mode === 'wx' && isSegment(c.path) })
//   layer.counts.datasync                               // calls so far
import { basename } from 'node:path'
import { type FileHandleLike, type FileLayer, nodeFileLayer, type OpenMode } from '../../src/index.js'

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
export type FileOp = (typeof FILE_OPS)[number]

/** One call as the fault matcher sees it. `path` is the file the call is about (for rename: the source). */
export interface FileCall {
  readonly op: FileOp
  readonly path: string
  /** `open` only. */
  readonly mode?: OpenMode
  /** `rename` only. */
  readonly to?: string
  /** `read`/`write`: bytes asked for; `truncate`: the new length. */
  readonly length?: number
  /** `read`/`write`: file position. */
  readonly position?: number
}

export interface FaultSpec {
  op: FileOp
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

export class FaultyFileLayer implements FileLayer {
  /** Calls per operation since construction or the last {@link resetCounts}. */
  readonly counts: Record<FileOp, number>
  /** Every call in order, if constructed with `{ record: true }`. */
  readonly calls: FileCall[] = []
  /** Paths of handles opened through this layer and not closed yet (a leak check after `close()`). */
  readonly openHandles = new Map<FileHandleLike, string>()
  private readonly faults: ArmedFault[] = []
  private readonly inner: FileLayer
  private readonly record: boolean

  constructor(options: { inner?: FileLayer; record?: boolean } = {}) {
    this.inner = options.inner ?? nodeFileLayer
    this.record = options.record ?? false
    this.counts = Object.fromEntries(FILE_OPS.map((op) => [op, 0])) as Record<FileOp, number>
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
    this.faults.push(fault)
    return fault
  }

  disarmAll(): void {
    for (const f of this.faults) f.active = false
    this.faults.length = 0
  }

  /** Every call a fault failed, in order. */
  get injected(): FileCall[] {
    return this.faults.flatMap((f) => f.fired)
  }

  /** Called for every call, before any fault is considered (observers, e.g. "did compaction unlink yet?"). */
  onCall: ((call: FileCall) => void) | undefined

  /** Counts `call` and returns the fault to inject, if one is due. Every wrapped operation goes through here. */
  intercept(call: FileCall): FaultSpec | undefined {
    this.counts[call.op]++
    if (this.record) this.calls.push(call)
    this.onCall?.(call)
    let due: FaultSpec | undefined
    for (const fault of this.faults) {
      if (!fault.active || fault.spec.op !== call.op) continue
      if (fault.spec.when && !fault.spec.when(call)) continue
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

  async open(path: string, mode: OpenMode): Promise<FileHandleLike> {
    const handle = await this.run({ op: 'open', path, mode }, () => this.inner.open(path, mode))
    const wrapped = new FaultyHandle(this, handle, path)
    this.openHandles.set(wrapped, path)
    return wrapped
  }
  readdir(dir: string): Promise<string[]> {
    return this.run({ op: 'readdir', path: dir }, () => this.inner.readdir(dir))
  }
  mkdir(dir: string): Promise<void> {
    return this.run({ op: 'mkdir', path: dir }, () => this.inner.mkdir(dir))
  }
  rename(from: string, to: string): Promise<void> {
    return this.run({ op: 'rename', path: from, to }, () => this.inner.rename(from, to))
  }
  unlink(path: string): Promise<void> {
    return this.run({ op: 'unlink', path }, () => this.inner.unlink(path))
  }
  syncDir(dir: string): Promise<void> {
    return this.run({ op: 'syncDir', path: dir }, () => this.inner.syncDir(dir))
  }
  size(path: string): Promise<number | undefined> {
    return this.run({ op: 'stat', path }, () => this.inner.size(path))
  }
}

class FaultyHandle implements FileHandleLike {
  constructor(
    private readonly layer: FaultyFileLayer,
    private readonly inner: FileHandleLike,
    private readonly path: string,
  ) {}
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.layer.run({ op: 'read', path: this.path, length, position }, () =>
      this.inner.read(buffer, offset, length, position),
    )
  }
  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const call: FileCall = { op: 'write', path: this.path, length, position }
    const fault = this.layer.intercept(call)
    if (fault) {
      const half = Math.floor(length / 2)
      if (fault.torn && half > 0) await this.inner.write(buffer, offset, half, position)
      throw ioError(fault.code ?? 'EIO', call)
    }
    return this.inner.write(buffer, offset, length, position)
  }
  datasync(): Promise<void> {
    return this.layer.run({ op: 'datasync', path: this.path }, () => this.inner.datasync())
  }
  sync(): Promise<void> {
    return this.layer.run({ op: 'sync', path: this.path }, () => this.inner.sync())
  }
  truncate(length: number): Promise<void> {
    return this.layer.run({ op: 'truncate', path: this.path, length }, () => this.inner.truncate(length))
  }
  size(): Promise<number> {
    return this.layer.run({ op: 'size', path: this.path }, () => this.inner.size())
  }
  async close(): Promise<void> {
    // Like close(2), a failing close still releases the descriptor: close for real, then report the fault.
    const fault = this.layer.intercept({ op: 'close', path: this.path })
    await this.inner.close()
    this.layer.openHandles.delete(this)
    if (fault) throw ioError(fault.code ?? 'EIO', { op: 'close', path: this.path })
  }
}
