// A file handle of the simulated file system (sim-fs.ts). It holds no state of its own but its inode and whether it
// is closed: every call goes through the file system that opened it, which counts it, fails it after a crash or an
// armed fault, and applies it to the model.
import type { FileHandleLike } from './file-layer-shape.js'
import { applyOp, type DataOp, type Inode } from './sim-disk.js'
import { fsError, type SimCall, type SimFaultSpec } from './sim-types.js'

/** What a handle needs from the file system that opened it. */
export interface SimHandleHost {
  handleOp<T>(call: SimCall, effect: (fault: SimFaultSpec | undefined) => T, returned?: (result: T) => void): Promise<T>
  write(inode: Inode, bytes: Uint8Array, position: number): DataOp
  writeReturned(inode: Inode, op: DataOp): void
  truncate(inode: Inode, length: number): void
  noteRead(bufferLength: number): void
  tornLength(length: number): number
  failCall(fault: SimFaultSpec, call: SimCall): never
  checkAlive(call: SimCall): void
}

/**
 * An open file of the simulated file system; every call goes through its host (counting, crash, faults). With
 * `dsync`, each write is durable once it has returned (O_DSYNC). It has no `writeSync` on purpose: whether the log
 * writes a batch inline depends on real time (the event loop's load, a slow write), so a seed's run would depend on
 * the machine; without it every batch takes the threadpool path, whose calls and bytes are the inline path's.
 */
export class SimHandle implements FileHandleLike {
  private closed = false
  constructor(
    private readonly fs: SimHandleHost,
    private readonly inode: Inode,
    private readonly path: string,
    private readonly writable: boolean,
    readonly dsync: boolean,
  ) {}

  private usable(call: SimCall): void {
    if (this.closed) throw fsError('EBADF', 'file handle is closed', call)
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const call: SimCall = { op: 'read', path: this.path, position, length }
    return this.fs.handleOp(call, (fault) => {
      if (fault) this.fs.failCall(fault, call)
      this.usable(call)
      this.fs.noteRead(buffer.byteLength)
      const data = this.inode.data
      const n = Math.max(0, Math.min(length, data.byteLength - position))
      buffer.set(data.subarray(position, position + n), offset)
      return n
    })
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const call: SimCall = this.dsync
      ? { op: 'write', path: this.path, position, length, dsync: true }
      : { op: 'write', path: this.path, position, length }
    let written: DataOp | undefined
    const effect = (fault: SimFaultSpec | undefined): number => {
      this.usable(call)
      if (!this.writable) throw fsError('EBADF', 'file opened read-only', call)
      const bytes = buffer.subarray(offset, offset + length)
      if (fault) {
        // A failed write may land part of its bytes, never durably: a failed call does not return.
        if (fault.torn) this.fs.write(this.inode, bytes.subarray(0, this.fs.tornLength(length)), position)
        this.fs.failCall(fault, call)
      }
      written = this.fs.write(this.inode, bytes, position)
      return length
    }
    if (!this.dsync) return this.fs.handleOp(call, effect)
    return this.fs.handleOp(call, effect, () => this.fs.writeReturned(this.inode, written!))
  }

  private flush(op: 'datasync' | 'sync'): Promise<void> {
    const call: SimCall = { op, path: this.path }
    return this.fs.handleOp(call, (fault) => {
      this.usable(call)
      if (fault) {
        if (fault.loseDirty && this.inode.pending.length > 0) {
          this.inode.pending = []
          this.inode.lost = true
        }
        this.fs.failCall(fault, call)
      }
      // durable ⊕ pending equals `data` unless a failed sync dropped pages: those stay lost.
      let durable = this.inode.durable
      for (const op of this.inode.pending) durable = applyOp(durable, op)
      this.inode.durable = durable
      this.inode.pending = []
    })
  }

  datasync(): Promise<void> {
    return this.flush('datasync')
  }

  sync(): Promise<void> {
    return this.flush('sync')
  }

  truncate(length: number): Promise<void> {
    const call: SimCall = { op: 'truncate', path: this.path, length }
    return this.fs.handleOp(call, (fault) => {
      if (fault) this.fs.failCall(fault, call)
      this.usable(call)
      if (!this.writable) throw fsError('EBADF', 'file opened read-only', call)
      this.fs.truncate(this.inode, length)
    })
  }

  size(): Promise<number> {
    const call: SimCall = { op: 'size', path: this.path }
    return this.fs.handleOp(call, (fault) => {
      if (fault) this.fs.failCall(fault, call)
      this.usable(call)
      return this.inode.data.byteLength
    })
  }

  async close(): Promise<void> {
    this.fs.checkAlive({ op: 'close', path: this.path })
    this.closed = true
  }
}
