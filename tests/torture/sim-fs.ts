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
// - Faults: EIO or ENOSPC on the nth call of any operation. A failed write may land half its bytes first; a failed
//   fdatasync may "lose" the file's dirty pages (Linux marks them clean: they never reach the disk and are evicted
//   before the next boot).
// - The writer lock lives here too (`LOCK`, created with 'wx'). A new boot treats it as what it is after a reboot, a
//   lock whose holder is dead: each boot (crash image or process restart) either removes it, or rewrites it with
//   this process's pid and a different process start time (stale by start time), or leaves a torn, unparsable
//   file (stale because it does not parse) — chosen by the seed, so the log's stale-lock path is exercised too.
// - Everything random comes from the seeded generator given to the constructor, and calls resolve after a seeded
//   number of `setImmediate` turns, so concurrent callers interleave differently per seed but identically per replay.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { posix } from 'node:path'
import type { FileHandleLike, FileLayer, OpenMode } from '@homedb/log'
import type { Rng } from './rng.js'

/** Every operation the simulator counts and can fail. `size` is both `FileLayer.size(path)` and a handle's `size()`. */
export const SIM_OPS = [
  'open',
  'read',
  'write',
  'datasync',
  'sync',
  'truncate',
  'size',
  'readdir',
  'mkdir',
  'rename',
  'unlink',
  'syncDir',
] as const
/** One of {@link SIM_OPS}. */
export type SimOp = (typeof SIM_OPS)[number]

/** A call as fault matchers see it. */
export interface SimCall {
  readonly op: SimOp | 'close'
  readonly path: string
  readonly mode?: OpenMode
  readonly to?: string
  readonly position?: number
  readonly length?: number
}

/** An injectable I/O error code. */
export type SimErrorCode = 'EIO' | 'ENOSPC'

/** A fault to inject: fail the `nth` matching call (counted from arming) with `code`. */
export interface SimFaultSpec {
  op: SimOp
  /** 1 = the next matching call. */
  nth: number
  code: SimErrorCode
  /** Only calls for which this is true count. */
  when?: (call: SimCall) => boolean
  /** `write` only: part of the bytes land before the error (a short write). */
  torn?: boolean
  /** `datasync`/`sync` only: the failed sync drops the file's dirty data (it will never be durable). */
  loseDirty?: boolean
}

/** A fault that fired. */
export interface FiredFault {
  readonly spec: SimFaultSpec
  readonly call: SimCall
  /** Global call number at which it fired. */
  readonly at: number
  /** Where the call came from (for failure reports). */
  readonly stack: string
}

/** How unsynced data survives a crash; see the file header. */
export type CrashMode = 'drop' | 'keep-all' | 'subset' | 'torn' | 'sectors'
/** Every crash mode. */
export const CRASH_MODES: readonly CrashMode[] = ['drop', 'keep-all', 'subset', 'torn', 'sectors']

/** What a boot did with a leftover `LOCK` file. */
export type LockOnBoot = 'absent' | 'removed' | 'stale-start-time' | 'torn'

/** One flipped bit of durable data. */
export interface BitFlip {
  readonly path: string
  readonly offset: number
  readonly bit: number
}

/** What a crash did. */
export interface CrashReport {
  readonly mode: CrashMode
  /** Unsynced data operations (writes, truncates) that survived, and those that did not. */
  readonly keptDataOps: number
  readonly droppedDataOps: number
  /** Unsynced directory operations that survived, and those that did not. */
  readonly keptDirOps: number
  readonly droppedDirOps: number
  /** Writes cut at a byte (torn mode). */
  readonly tornWrites: number
  /** Durable bits flipped (media corruption); empty in most crashes. */
  readonly flips: readonly BitFlip[]
  readonly lock: LockOnBoot
}

/** Options of {@link SimFs.crash}. */
export interface CrashOptions {
  /** Probability that this crash also flips 1–3 bits of durable segment/snapshot data. Default 0. */
  flipProbability?: number
  /** Which files may receive bit flips. Default: segment and snapshot files. */
  flipTarget?: (path: string) => boolean
}

type DataOp = { kind: 'write'; position: number; bytes: Uint8Array } | { kind: 'truncate'; length: number }

interface Inode {
  readonly id: number
  durable: Uint8Array
  data: Uint8Array
  pending: DataOp[]
  /** A failed sync dropped its dirty pages: the next boot sees only `durable`. */
  lost: boolean
}

type Entry = { kind: 'file'; inode: Inode } | { kind: 'dir' }

type DirOp =
  | { kind: 'link'; name: string; entry: Entry }
  | { kind: 'unlink'; name: string }
  | { kind: 'rename'; from: string; to: string; entry: Entry }

interface Dir {
  durable: Map<string, Entry>
  entries: Map<string, Entry>
  pending: DirOp[]
}

const EMPTY = new Uint8Array(0)
const SECTOR = 512
const isSegmentOrSnapshot = (path: string): boolean =>
  /^(segment-\d+\.log|snapshot-\d+\.snap)$/.test(posix.basename(path))

/** Marks errors thrown because the simulated machine lost power. */
export const SIM_CRASHED = 'SIM_CRASHED'

function fsError(code: string, message: string, call: SimCall): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}, ${call.op} '${call.path}'`)
  error.code = code
  error.syscall = call.op
  error.path = call.path
  return error
}

/** Marks errors thrown by an armed fault. */
export const SIM_INJECTED = 'SIM_INJECTED'

/** True if `error` (or an error in its `cause` chain) was thrown by an armed fault. */
export function isInjected(error: unknown): boolean {
  return causeChainHas(error, SIM_INJECTED)
}

/** True if `error` (or an error in its `cause` chain) was thrown by a simulated file system after its power was cut. */
export function isSimCrash(error: unknown): boolean {
  return causeChainHas(error, SIM_CRASHED)
}

function causeChainHas(error: unknown, marker: string): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if ((e as { simulated?: string }).simulated === marker) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

function applyOp(data: Uint8Array, op: DataOp): Uint8Array {
  if (op.kind === 'truncate') {
    if (op.length === data.byteLength) return data
    const out = new Uint8Array(op.length)
    out.set(data.subarray(0, Math.min(op.length, data.byteLength)))
    return out
  }
  const end = op.position + op.bytes.byteLength
  const out = new Uint8Array(Math.max(end, data.byteLength))
  out.set(data)
  out.set(op.bytes, op.position)
  return out
}

function withLength(data: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  out.set(data.subarray(0, Math.min(length, data.byteLength)))
  return out
}

function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false
  return true
}

function processStartTime(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    return Number.isFinite(value) ? value : null
  } catch {
    return null
  }
}

/** Counters of a simulated file system (and of every instance booted from it). */
export interface SimCounters {
  /** Calls per operation. */
  readonly calls: Record<SimOp, number>
  /** Every call, any operation. */
  total: number
  /** The largest buffer a read asked to fill (a stand-in for the largest allocation made to read a file). */
  maxReadLength: number
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
 * const again = await openLog('/db/log', { fileLayer: rebooted })
 * ```
 */
export class SimFs implements FileLayer {
  /** Calls counted by this instance. */
  readonly counters: SimCounters = {
    calls: Object.fromEntries(SIM_OPS.map((op) => [op, 0])) as Record<SimOp, number>,
    total: 0,
    maxReadLength: 0,
  }
  /** Faults that fired on this instance, in order. */
  readonly fired: FiredFault[] = []
  private readonly dirs = new Map<string, Dir>()
  private faults: { spec: SimFaultSpec; seen: number }[] = []
  private crashAt: number | undefined
  private deadSince: SimCall | undefined
  private dead = false
  private nextInode = 1
  private readonly rng: Rng
  private readonly maxPause: number

  /**
   * @param rng drives latency and torn-write lengths; give each boot its own fork.
   * @param options.maxPause most `setImmediate` turns a call waits before it resolves (default 3; 0 = none).
   */
  constructor(rng: Rng, options: { maxPause?: number } = {}) {
    this.rng = rng
    this.maxPause = options.maxPause ?? 3
    this.dirs.set('/', { durable: new Map(), entries: new Map(), pending: [] })
  }

  /** A simulated file system holding `files` (absolute paths), all durable; parent directories are created. */
  static withFiles(rng: Rng, files: ReadonlyMap<string, Uint8Array>, options: { maxPause?: number } = {}): SimFs {
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
    const next = new SimFs(rng, { maxPause: this.maxPause })
    const counts = { keptDataOps: 0, droppedDataOps: 0, keptDirOps: 0, droppedDirOps: 0, tornWrites: 0 }
    // Names: durable entries plus a prefix of each directory's pending operations.
    const names = new Map<string, Map<string, Entry>>()
    for (const [path, dir] of this.dirs) {
      const keep = mode === 'drop' ? 0 : mode === 'keep-all' ? dir.pending.length : rng.int(0, dir.pending.length)
      const entries = new Map(dir.durable)
      for (const [i, op] of dir.pending.entries()) {
        if (i >= keep) break
        if (op.kind === 'link') entries.set(op.name, op.entry)
        else if (op.kind === 'unlink') entries.delete(op.name)
        else {
          entries.delete(op.from)
          entries.set(op.to, op.entry)
        }
      }
      counts.keptDirOps += keep
      counts.droppedDirOps += dir.pending.length - keep
      names.set(path, entries)
    }
    // Data: what of each reachable file's unsynced operations reached the disk.
    const images = new Map<Inode, Uint8Array>()
    const image = (inode: Inode): Uint8Array => {
      let out = images.get(inode)
      if (out === undefined) {
        out = this.crashData(inode, mode, rng, counts)
        images.set(inode, out)
      }
      return out
    }
    const files: [string, Inode, Uint8Array][] = []
    const walk = (path: string): void => {
      const entries = names.get(path)
      if (!entries) return
      next.ensureDir(path)
      for (const name of [...entries.keys()].sort()) {
        const entry = entries.get(name)!
        const child = posix.join(path, name)
        if (entry.kind === 'dir') walk(child)
        else files.push([child, entry.inode, image(entry.inode)])
      }
    }
    walk('/')
    // Media corruption: flip bits of bytes that were durable before the crash.
    const flips: BitFlip[] = []
    if (options.flipProbability !== undefined && rng.chance(options.flipProbability)) {
      const target = options.flipTarget ?? isSegmentOrSnapshot
      const candidates = files.filter(
        ([path, inode, data]) => target(path) && Math.min(inode.durable.byteLength, data.byteLength) > 0,
      )
      if (candidates.length > 0) {
        const count = rng.int(1, 3)
        for (let i = 0; i < count; i++) {
          const [path, inode, data] = rng.pick(candidates)
          const offset = rng.int(0, Math.min(inode.durable.byteLength, data.byteLength) - 1)
          const bit = rng.int(0, 7)
          data[offset]! ^= 1 << bit
          flips.push({ path, offset, bit })
        }
      }
    }
    let lock: LockOnBoot = 'absent'
    for (const [path, , data] of files) {
      if (posix.basename(path) === 'LOCK') {
        lock = this.staleLock(rng)
        if (lock !== 'removed') next.putFile(path, lock === 'torn' ? this.tornLock(rng) : this.staleLockBytes())
      } else {
        next.putFile(path, data)
      }
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
    const next = new SimFs(rng, { maxPause: this.maxPause })
    next.nextInode = this.nextInode
    const copies = new Map<Inode, Inode>()
    const copyEntry = (entry: Entry): Entry => {
      if (entry.kind === 'dir') return entry
      let inode = copies.get(entry.inode)
      if (!inode) {
        const old = entry.inode
        // Pages a failed sync dropped were evicted before the restart: the file shows durable ⊕ pending.
        let data = old.data
        if (old.lost) {
          data = old.durable
          for (const op of old.pending) data = applyOp(data, op)
        }
        inode = { id: old.id, durable: old.durable, data, pending: [...old.pending], lost: false }
        copies.set(old, inode)
      }
      return { kind: 'file', inode }
    }
    const copyMap = (map: Map<string, Entry>) => new Map([...map].map(([k, v]) => [k, copyEntry(v)] as const))
    next.dirs.clear()
    for (const [path, dir] of this.dirs) {
      next.dirs.set(path, {
        durable: copyMap(dir.durable),
        entries: copyMap(dir.entries),
        pending: dir.pending.map((op) => (op.kind === 'unlink' ? op : { ...op, entry: copyEntry(op.entry) })),
      })
    }
    let lock: LockOnBoot = 'absent'
    for (const [path, dir] of next.dirs) {
      if (dir.entries.get('LOCK')?.kind !== 'file') continue
      const lockPath = posix.join(path, 'LOCK')
      lock = this.staleLock(rng)
      if (lock === 'removed') next.removeFile(lockPath)
      else next.putFile(lockPath, lock === 'torn' ? this.tornLock(rng) : this.staleLockBytes())
    }
    return { fs: next, lock }
  }

  private staleLock(rng: Rng): LockOnBoot {
    const choice = rng.int(0, 2)
    if (choice === 1 && processStartTime() !== null) return 'stale-start-time'
    return choice === 2 ? 'torn' : 'removed'
  }

  private staleLockBytes(): Uint8Array {
    const holder = {
      pid: process.pid,
      startTime: (processStartTime() ?? 0) + 1,
      hostname: hostname(),
      acquiredAt: '2000-01-01T00:00:00.000Z',
    }
    return new TextEncoder().encode(JSON.stringify(holder))
  }

  private tornLock(rng: Rng): Uint8Array {
    const full = this.staleLockBytes()
    return full.subarray(0, rng.int(0, 8))
  }

  private crashData(
    inode: Inode,
    mode: CrashMode,
    rng: Rng,
    counts: { keptDataOps: number; droppedDataOps: number; tornWrites: number },
  ): Uint8Array {
    const ops = inode.pending
    let data = inode.durable
    if (mode === 'drop' || ops.length === 0) {
      counts.droppedDataOps += ops.length
      return Uint8Array.from(data)
    }
    if (mode === 'keep-all') {
      for (const op of ops) data = applyOp(data, op)
      counts.keptDataOps += ops.length
      return Uint8Array.from(data)
    }
    if (mode === 'subset') {
      for (const op of ops) {
        if (rng.chance(0.5)) {
          data = applyOp(data, op)
          counts.keptDataOps++
        } else counts.droppedDataOps++
      }
      return Uint8Array.from(data)
    }
    if (mode === 'torn') {
      const keep = rng.int(1, ops.length)
      for (let i = 0; i < keep; i++) {
        let op = ops[i]!
        if (i === keep - 1 && op.kind === 'write' && op.bytes.byteLength > 0) {
          op = { ...op, bytes: op.bytes.subarray(0, rng.int(0, op.bytes.byteLength - 1)) }
          counts.tornWrites++
        }
        data = applyOp(data, op)
      }
      counts.keptDataOps += keep
      counts.droppedDataOps += ops.length - keep
      return Uint8Array.from(data)
    }
    // sectors: every changed sector independently old or new, and a length between the old and the new one.
    let full = inode.durable
    for (const op of ops) full = applyOp(full, op)
    const low = Math.min(inode.durable.byteLength, full.byteLength)
    const high = Math.max(inode.durable.byteLength, full.byteLength)
    const length = rng.pick([inode.durable.byteLength, full.byteLength, rng.int(low, high)])
    const before = withLength(inode.durable, length)
    const after = withLength(full, length)
    let kept = 0
    let sectors = 0
    for (let at = 0; at < length; at += SECTOR) {
      const end = Math.min(length, at + SECTOR)
      if (sameBytes(before, after, at, end)) continue
      sectors++
      if (rng.chance(0.5)) {
        before.set(after.subarray(at, end), at)
        kept++
      }
    }
    counts.keptDataOps += kept
    counts.droppedDataOps += sectors - kept
    return before
  }

  // ------------------------------------------------------------------ direct access for tests (not counted)

  /** Current bytes of a file (what a reader sees now), or `undefined`. Not counted, never fails. */
  readFile(path: string): Uint8Array | undefined {
    const entry = this.lookup(path)
    return entry?.kind === 'file' ? Uint8Array.from(entry.inode.data) : undefined
  }

  /** Names in a directory now, sorted. Not counted, never fails. */
  list(dir: string): string[] {
    return [...(this.dirs.get(posix.normalize(dir))?.entries.keys() ?? [])].sort()
  }

  /** Creates or replaces a file with durable `bytes` (name and data both durable). Not counted. */
  putFile(path: string, bytes: Uint8Array): void {
    const norm = posix.normalize(path)
    const parent = posix.dirname(norm)
    this.ensureDir(parent)
    const dir = this.dirs.get(parent)!
    const data = Uint8Array.from(bytes)
    const existing = dir.entries.get(posix.basename(norm))
    const inode: Inode =
      existing?.kind === 'file'
        ? existing.inode
        : { id: this.nextInode++, durable: data, data, pending: [], lost: false }
    inode.durable = inode.data = data
    inode.pending = []
    const entry: Entry = { kind: 'file', inode }
    dir.entries.set(posix.basename(norm), entry)
    dir.durable.set(posix.basename(norm), entry)
  }

  /** Removes a file durably. Not counted. */
  removeFile(path: string): void {
    const norm = posix.normalize(path)
    const dir = this.dirs.get(posix.dirname(norm))
    dir?.entries.delete(posix.basename(norm))
    dir?.durable.delete(posix.basename(norm))
  }

  /** Unsynced operations now pending: data operations per file and directory operations (for tests of the sim). */
  pendingCounts(): { dataOps: number; dirOps: number } {
    let dataOps = 0
    let dirOps = 0
    const seen = new Set<Inode>()
    for (const dir of this.dirs.values()) {
      dirOps += dir.pending.length
      for (const entry of dir.entries.values()) {
        if (entry.kind === 'file' && !seen.has(entry.inode)) {
          seen.add(entry.inode)
          dataOps += entry.inode.pending.length
        }
      }
    }
    return { dataOps, dirOps }
  }

  /** Creates a directory (and its parents), durably. Not counted. */
  putDir(path: string): void {
    this.ensureDir(path)
  }

  private ensureDir(path: string): void {
    const norm = posix.normalize(path)
    if (this.dirs.has(norm)) return
    const parent = posix.dirname(norm)
    this.ensureDir(parent)
    this.dirs.set(norm, { durable: new Map(), entries: new Map(), pending: [] })
    const p = this.dirs.get(parent)!
    p.entries.set(posix.basename(norm), { kind: 'dir' })
    p.durable.set(posix.basename(norm), { kind: 'dir' })
  }

  private lookup(path: string): Entry | undefined {
    const norm = posix.normalize(path)
    if (this.dirs.has(norm)) return { kind: 'dir' }
    return this.dirs.get(posix.dirname(norm))?.entries.get(posix.basename(norm))
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

  /** Waits a seeded number of event-loop turns, then fails if the power was cut meanwhile. */
  private async settle(call: SimCall): Promise<void> {
    const turns = this.maxPause > 0 && this.rng.chance(0.4) ? this.rng.int(1, this.maxPause) : 0
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.dead) throw this.crashedError(call)
  }

  /** Runs a call: count/crash/fault check, the effect (synchronously, at call time), then the seeded pause. */
  private async run<T>(call: SimCall, effect: (fault: SimFaultSpec | undefined) => T): Promise<T> {
    const fault = this.enter(call)
    const result = effect(fault)
    await this.settle(call)
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

  open(path: string, mode: OpenMode): Promise<FileHandleLike> {
    const call: SimCall = { op: 'open', path, mode }
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
        return new SimHandle(this, inode, path, true)
      }
      if (this.dirs.has(posix.normalize(path))) throw fsError('EISDIR', 'is a directory', call)
      if (entry?.kind !== 'file') throw fsError('ENOENT', 'no such file or directory', call)
      return new SimHandle(this, entry.inode, path, mode === 'r+')
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
  handleOp<T>(call: SimCall, effect: (fault: SimFaultSpec | undefined) => T): Promise<T> {
    return this.run(call, effect)
  }

  /** @internal */
  write(inode: Inode, bytes: Uint8Array, position: number): void {
    const op: DataOp = { kind: 'write', position, bytes: Uint8Array.from(bytes) }
    inode.data = applyOp(inode.data, op)
    inode.pending.push(op)
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

class SimHandle implements FileHandleLike {
  private closed = false
  constructor(
    private readonly fs: SimFs,
    private readonly inode: Inode,
    private readonly path: string,
    private readonly writable: boolean,
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
    const call: SimCall = { op: 'write', path: this.path, position, length }
    return this.fs.handleOp(call, (fault) => {
      this.usable(call)
      if (!this.writable) throw fsError('EBADF', 'file opened read-only', call)
      const bytes = buffer.subarray(offset, offset + length)
      if (fault) {
        if (fault.torn) this.fs.write(this.inode, bytes.subarray(0, this.fs.tornLength(length)), position)
        this.fs.failCall(fault, call)
      }
      this.fs.write(this.inode, bytes, position)
      return length
    })
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
