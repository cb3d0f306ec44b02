// A simulated file system behind @homedb/log's FileLayer, entirely in memory, for power-loss and I/O-error runs.
//
// Model (what survives a power cut):
// - Every file (inode) has its durable bytes and the list of operations (writes, truncates) made since its last
//   fsync/fdatasync. Both calls make all of the file's current bytes durable.
// - Every directory has its durable entries and the list of entry operations (create, rename, unlink, mkdir of a
//   child) made since its last `syncDir`. Directory operations reach the disk in order (a journalled file system
//   commits metadata in order), so a crash keeps a prefix of each directory's pending operations; file data is
//   kept independently of names (data=writeback: a name can survive while its unsynced data does not).
// - `crash(mode)` stops the world (every later call on this instance fails) and builds the post-power-loss file
//   system as a new instance. Modes: `drop` (nothing unsynced survives), `keep-all` (everything does: a process
//   crash or kill -9), `subset` (a random subset of each file's unsynced operations, applied in order: later writes
//   can land without earlier ones), `torn` (a prefix of each file's unsynced operations, the last one cut at a
//   random byte), `sectors` (each 512-byte sector that changed keeps its old or new content at random, with a
//   random final length). Rarely, and flagged in the report, random bits of durable segment or snapshot bytes are
//   flipped too (media corruption).
// - A handle opened with `{ dsync: true }` (O_DSYNC) has writes that are durable when they return: the write lands
//   in the file's unsynced operations at call time like any other, and becomes durable only once the call has
//   returned, so a power cut while it is in flight can still drop or tear it (`writeReturned` in sim-disk.ts has the
//   exact rule). `{ dsync: false }` in the constructor models a platform without O_DSYNC: the flag is ignored and
//   handles do not report `dsync`.
// - Faults: EIO or ENOSPC on the nth call of any operation. A failed write may land half its bytes first; a failed
//   fdatasync may "lose" the file's dirty pages (Linux marks them clean: they never reach the disk and are evicted
//   before the next boot).
// - The writer lock lives here too (`LOCK`, created with 'wx'). A new boot treats it as what it is after a reboot, a
//   lock whose holder is dead: each boot (crash image or process restart) either removes it, or rewrites it with
//   this process's pid and a different process start time (stale by start time), or leaves a torn, unparsable
//   file (stale because it does not parse) — chosen by the seed, so the log's stale-lock path is exercised too.
// - Everything random comes from the seeded generator given to the constructor, and calls resolve after a seeded
//   number of `setImmediate` turns, so concurrent callers interleave differently per seed but identically per replay.
import { posix } from 'node:path'
import type { FileHandleLike, FileLayer, OpenMode, OpenOptions } from './file-layer-shape.js'
import type { Rng } from './rng.js'
import {
  applyOp,
  bootLock,
  type CrashCounts,
  crashData,
  type DataOp,
  type Dir,
  EMPTY,
  type Entry,
  flipDurableBits,
  type Inode,
  reachableFiles,
  restartedDirs,
  survivingNames,
  writeReturned,
} from './sim-disk.js'
import { SimHandle } from './sim-handle.js'
import { SimTree } from './sim-tree.js'
import {
  type CrashMode,
  type CrashOptions,
  type CrashReport,
  type FiredFault,
  fsError,
  type LockOnBoot,
  SIM_CRASHED,
  SIM_INJECTED,
  SIM_OPS,
  type SimCall,
  type SimCounters,
  type SimFaultSpec,
  type SimOp,
} from './sim-types.js'

/** Options of {@link SimFs}. */
export interface SimFsOptions {
  /** Most `setImmediate` turns a call waits before it resolves (default 3; 0 = none). */
  readonly maxPause?: number
  /** Whether `open(…, { dsync: true })` is honoured (default true; false models a platform without O_DSYNC). */
  readonly dsync?: boolean
}

/**
 * An in-memory {@link FileLayer} with power-loss semantics and fault injection; see the file header.
 *
 * @example
 * ```ts
 * const fs = new SimFs(seededRng(7))
 * const log = await openLog('/db/log', { fileLayer: fs })
 * log.append(bytes); await log.sync()
 * const { fs: rebooted } = fs.crash('subset', rng)   // the old instance is dead from here on
 * await log.close().catch(() => {})                 // its handles died with the power
 * const again = await openLog('/db/log', { fileLayer: rebooted })
 * ```
 */
export class SimFs extends SimTree implements FileLayer {
  /** Calls counted by this instance. */
  readonly counters: SimCounters = {
    calls: Object.fromEntries(SIM_OPS.map((op) => [op, 0])) as Record<SimOp, number>,
    total: 0,
    maxReadLength: 0,
  }
  /** Faults that fired on this instance, in order. */
  readonly fired: FiredFault[] = []
  private faults: { spec: SimFaultSpec; seen: number }[] = []
  private crashAt: number | undefined
  private deadSince: SimCall | undefined
  private dead = false
  private readonly rng: Rng
  private readonly maxPause: number
  private readonly dsync: boolean

  /**
   * @param rng drives latency and torn-write lengths; give each boot its own fork.
   * @param options see {@link SimFsOptions}; crashes and restarts keep them.
   */
  constructor(rng: Rng, options: SimFsOptions = {}) {
    super()
    this.rng = rng
    this.maxPause = options.maxPause ?? 3
    this.dsync = options.dsync ?? true
  }

  /** A simulated file system holding `files` (absolute paths), all durable; parent directories are created. */
  static withFiles(rng: Rng, files: ReadonlyMap<string, Uint8Array>, options: SimFsOptions = {}): SimFs {
    const fs = new SimFs(rng, options)
    for (const [path, bytes] of files) fs.putFile(path, bytes)
    return fs
  }

  // ------------------------------------------------------------------ control

  /** True once the power was cut (or the instance was replaced by a restart). */
  get isDead(): boolean {
    return this.dead
  }

  /** The call at which the power was cut, if a scheduled crash fired. */
  get crashedAt(): SimCall | undefined {
    return this.deadSince
  }

  /** Cuts the power at the `n`th call from now (1 = the next call, which then does not happen). */
  crashAfterCalls(n: number): void {
    this.crashAt = this.counters.total + n
  }

  /** Arms a fault. */
  arm(spec: SimFaultSpec): void {
    this.faults.push({ spec, seen: 0 })
  }

  /** Disarms every fault not yet fired. */
  disarm(): void {
    this.faults = []
  }

  /**
   * Cuts the power now (if not already) and returns the file system as it is after the power comes back, as a new
   * instance driven by `rng`. This instance stays dead: calls from the old process fail.
   */
  crash(mode: CrashMode, rng: Rng, options: CrashOptions = {}): { fs: SimFs; report: CrashReport } {
    this.dead = true
    const next = new SimFs(rng, this.options)
    const counts: CrashCounts = { keptDataOps: 0, droppedDataOps: 0, keptDirOps: 0, droppedDirOps: 0, tornWrites: 0 }
    const names = survivingNames(this.dirs, mode, rng, counts)
    const { dirs, files } = reachableFiles(names, (inode) => crashData(inode, mode, rng, counts))
    for (const dir of dirs) next.ensureDir(dir)
    const flips = flipDurableBits(files, rng, options)
    let lock: LockOnBoot = 'absent'
    for (const [path, , data] of files) {
      if (posix.basename(path) !== 'LOCK') {
        next.putFile(path, data)
        continue
      }
      const boot = bootLock(rng)
      lock = boot.lock
      if (boot.bytes) next.putFile(path, boot.bytes)
    }
    return { fs: next, report: { mode, ...counts, flips, lock } }
  }

  /**
   * A process restart without power loss: the old instance dies (its calls fail) and a new one sees the current
   * file system, with unsynced data still unsynced (a later crash can lose it). Files whose dirty pages a failed sync
   * dropped show their durable bytes. A leftover `LOCK` is handled as in {@link crash}.
   */
  restart(rng: Rng): { fs: SimFs; lock: LockOnBoot } {
    this.dead = true
    const next = new SimFs(rng, this.options)
    next.nextInode = this.nextInode
    next.dirs.clear()
    for (const [path, dir] of restartedDirs(this.dirs)) next.dirs.set(path, dir)
    let lock: LockOnBoot = 'absent'
    for (const [path, dir] of next.dirs) {
      if (dir.entries.get('LOCK')?.kind !== 'file') continue
      const lockPath = posix.join(path, 'LOCK')
      const boot = bootLock(rng)
      lock = boot.lock
      if (boot.bytes) next.putFile(lockPath, boot.bytes)
      else next.removeFile(lockPath)
    }
    return { fs: next, lock }
  }

  /** The options a crash or restart gives the next instance. */
  private get options(): SimFsOptions {
    return { maxPause: this.maxPause, dsync: this.dsync }
  }

  // ------------------------------------------------------------------ the file layer

  /** Counts a call and throws if the power is off, the scheduled crash is due, or a fault fires. */
  private enter(call: SimCall): SimFaultSpec | undefined {
    if (this.dead) throw this.crashedError(call)
    if (call.op === 'close') return undefined
    this.counters.total++
    this.counters.calls[call.op]++
    if (this.crashAt !== undefined && this.counters.total >= this.crashAt) {
      this.dead = true
      this.deadSince = call
      throw this.crashedError(call)
    }
    for (const fault of this.faults) {
      if (fault.spec.op !== call.op || (fault.spec.when && !fault.spec.when(call))) continue
      fault.seen++
      if (fault.seen === fault.spec.nth) {
        this.faults = this.faults.filter((f) => f !== fault)
        this.fired.push({ spec: fault.spec, call, at: this.counters.total, stack: new Error('fault').stack ?? '' })
        return fault.spec
      }
    }
    return undefined
  }

  private crashedError(call: SimCall): Error {
    const error = fsError('EIO', 'simulated power loss', call) as NodeJS.ErrnoException & { simulated: string }
    error.simulated = SIM_CRASHED
    return error
  }

  /**
   * Waits a seeded number of event-loop turns, then fails if the power was cut meanwhile; otherwise the call returns,
   * and `returned` runs at that same moment (no turn in between in which a crash could fall).
   */
  private async settle(call: SimCall, returned: (() => void) | undefined): Promise<void> {
    const turns = this.maxPause > 0 && this.rng.chance(0.4) ? this.rng.int(1, this.maxPause) : 0
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.dead) throw this.crashedError(call)
    returned?.()
  }

  /**
   * Runs a call: count/crash/fault check, the effect (synchronously, at call time), then the seeded pause, then
   * `returned` if the call returns (the power is still on): what becomes true only once a call has returned.
   */
  private async run<T>(
    call: SimCall,
    effect: (fault: SimFaultSpec | undefined) => T,
    returned?: (result: T) => void,
  ): Promise<T> {
    const fault = this.enter(call)
    const result = effect(fault)
    await this.settle(call, returned && (() => returned(result)))
    return result
  }

  private failWith(fault: SimFaultSpec, call: SimCall): never {
    const error = fsError(fault.code, 'injected fault', call) as NodeJS.ErrnoException & { simulated: string }
    error.simulated = SIM_INJECTED
    throw error
  }

  private dirOf(path: string, call: SimCall): Dir {
    const dir = this.dirs.get(posix.dirname(posix.normalize(path)))
    if (!dir) throw fsError('ENOENT', 'no such file or directory', call)
    return dir
  }

  open(path: string, mode: OpenMode, options?: OpenOptions): Promise<FileHandleLike> {
    const dsync = this.dsync && options?.dsync === true && mode !== 'r'
    const call: SimCall = dsync ? { op: 'open', path, mode, dsync } : { op: 'open', path, mode }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      const dir = this.dirOf(path, call)
      const name = posix.basename(posix.normalize(path))
      const entry = dir.entries.get(name)
      if (mode === 'wx') {
        if (entry || this.dirs.has(posix.normalize(path))) throw fsError('EEXIST', 'file already exists', call)
        const inode: Inode = { id: this.nextInode++, durable: EMPTY, data: EMPTY, pending: [], lost: false }
        const created: Entry = { kind: 'file', inode }
        dir.entries.set(name, created)
        dir.pending.push({ kind: 'link', name, entry: created })
        return new SimHandle(this, inode, path, true, dsync)
      }
      if (this.dirs.has(posix.normalize(path))) throw fsError('EISDIR', 'is a directory', call)
      if (entry?.kind !== 'file') throw fsError('ENOENT', 'no such file or directory', call)
      return new SimHandle(this, entry.inode, path, mode === 'r+', dsync)
    })
  }

  readdir(dir: string): Promise<string[]> {
    const call: SimCall = { op: 'readdir', path: dir }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      const d = this.dirs.get(posix.normalize(dir))
      if (!d) throw fsError('ENOENT', 'no such file or directory', call)
      // Directory order is unspecified: shuffle it (seeded) so nothing depends on it.
      const names = [...d.entries.keys()]
      for (let i = names.length - 1; i > 0; i--) {
        const j = this.rng.int(0, i)
        ;[names[i], names[j]] = [names[j]!, names[i]!]
      }
      return names
    })
  }

  mkdir(dir: string): Promise<void> {
    const call: SimCall = { op: 'mkdir', path: dir }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      this.mkdirs(posix.normalize(dir), call)
    })
  }

  private mkdirs(path: string, call: SimCall): void {
    if (this.dirs.has(path)) return
    const parentPath = posix.dirname(path)
    this.mkdirs(parentPath, call)
    const parent = this.dirs.get(parentPath)!
    const name = posix.basename(path)
    if (parent.entries.has(name)) throw fsError('EEXIST', 'file already exists', call)
    this.dirs.set(path, { durable: new Map(), entries: new Map(), pending: [] })
    const entry: Entry = { kind: 'dir' }
    parent.entries.set(name, entry)
    parent.pending.push({ kind: 'link', name, entry })
  }

  rename(from: string, to: string): Promise<void> {
    const call: SimCall = { op: 'rename', path: from, to }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      const dir = this.dirOf(from, call)
      if (this.dirOf(to, call) !== dir) throw fsError('EXDEV', 'the simulator renames within a directory only', call)
      const fromName = posix.basename(posix.normalize(from))
      const toName = posix.basename(posix.normalize(to))
      const entry = dir.entries.get(fromName)
      if (entry?.kind !== 'file') throw fsError('ENOENT', 'no such file or directory', call)
      if (dir.entries.get(toName)?.kind === 'dir') throw fsError('EISDIR', 'is a directory', call)
      if (fromName === toName) return
      dir.entries.delete(fromName)
      dir.entries.set(toName, entry)
      dir.pending.push({ kind: 'rename', from: fromName, to: toName, entry })
    })
  }

  unlink(path: string): Promise<void> {
    const call: SimCall = { op: 'unlink', path }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      const dir = this.dirOf(path, call)
      const name = posix.basename(posix.normalize(path))
      const entry = dir.entries.get(name)
      if (!entry) throw fsError('ENOENT', 'no such file or directory', call)
      if (entry.kind === 'dir') throw fsError('EISDIR', 'is a directory', call)
      dir.entries.delete(name)
      dir.pending.push({ kind: 'unlink', name })
    })
  }

  syncDir(dir: string): Promise<void> {
    const call: SimCall = { op: 'syncDir', path: dir }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      const d = this.dirs.get(posix.normalize(dir))
      if (!d) throw fsError('ENOENT', 'no such file or directory', call)
      d.durable = new Map(d.entries)
      d.pending = []
    })
  }

  size(path: string): Promise<number | undefined> {
    const call: SimCall = { op: 'size', path }
    return this.run(call, (fault) => {
      if (fault) this.failWith(fault, call)
      const entry = this.lookup(path)
      if (!entry) return undefined
      return entry.kind === 'dir' ? 4096 : entry.inode.data.byteLength
    })
  }

  // ------------------------------------------------------------------ handle operations (used by SimHandle)

  /** @internal */
  handleOp<T>(
    call: SimCall,
    effect: (fault: SimFaultSpec | undefined) => T,
    returned?: (result: T) => void,
  ): Promise<T> {
    return this.run(call, effect, returned)
  }

  /** @internal */
  write(inode: Inode, bytes: Uint8Array, position: number): DataOp {
    const op: DataOp = { kind: 'write', position, bytes: Uint8Array.from(bytes) }
    inode.data = applyOp(inode.data, op)
    inode.pending.push(op)
    return op
  }

  /** @internal A write of a dsync handle returned: it is durable now. */
  writeReturned(inode: Inode, op: DataOp): void {
    writeReturned(inode, op)
  }

  /** @internal */
  truncate(inode: Inode, length: number): void {
    const op: DataOp = { kind: 'truncate', length }
    inode.data = applyOp(inode.data, op)
    inode.pending.push(op)
  }

  /** @internal */
  noteRead(bufferLength: number): void {
    if (bufferLength > this.counters.maxReadLength) this.counters.maxReadLength = bufferLength
  }

  /** @internal */
  tornLength(length: number): number {
    return this.rng.int(0, Math.max(0, length - 1))
  }

  /** @internal */
  failCall(fault: SimFaultSpec, call: SimCall): never {
    this.failWith(fault, call)
  }

  /** @internal */
  checkAlive(call: SimCall): void {
    this.enter(call)
  }
}
