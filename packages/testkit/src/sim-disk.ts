// The data model of the simulated file system and what a power cut or a restart does to it (see sim-fs.ts for the
// rules). Pure functions over the model: the random choices all come from the `rng` they are given, in a fixed
// order, so a seed rebuilds the same disk.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { posix } from 'node:path'
import type { Rng } from './rng.js'
import type { BitFlip, CrashMode, CrashOptions, LockOnBoot } from './sim-types.js'

/** An unsynced change to a file's data. */
export type DataOp = { kind: 'write'; position: number; bytes: Uint8Array } | { kind: 'truncate'; length: number }

/** A file: its durable bytes, what a reader sees now, and the changes in between. */
export interface Inode {
  readonly id: number
  durable: Uint8Array
  data: Uint8Array
  pending: DataOp[]
  /** A failed sync dropped its dirty pages: the next boot sees only `durable`. */
  lost: boolean
}

/** A directory entry. */
export type Entry = { kind: 'file'; inode: Inode } | { kind: 'dir' }

/** An unsynced change to a directory's entries. */
export type DirOp =
  | { kind: 'link'; name: string; entry: Entry }
  | { kind: 'unlink'; name: string }
  | { kind: 'rename'; from: string; to: string; entry: Entry }

/** A directory: its durable entries, the entries now, and the changes in between. */
export interface Dir {
  durable: Map<string, Entry>
  entries: Map<string, Entry>
  pending: DirOp[]
}

/** Counts of what a crash kept and dropped. */
export interface CrashCounts {
  keptDataOps: number
  droppedDataOps: number
  keptDirOps: number
  droppedDirOps: number
  tornWrites: number
}

/** A file of the disk after a crash: where it is, its inode before, and its bytes after. */
export type CrashedFile = [path: string, inode: Inode, data: Uint8Array]

export const EMPTY = new Uint8Array(0)
const SECTOR = 512
const isSegmentOrSnapshot = (path: string): boolean =>
  /^(segment-\d+\.log|snapshot-\d+\.snap)$/.test(posix.basename(path))

/** `data` after `op`. */
export function applyOp(data: Uint8Array, op: DataOp): Uint8Array {
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

/**
 * A write of a dsync (O_DSYNC) handle returned: its bytes, and the file length that reaches them, are durable; the
 * file's other unsynced operations stay unsynced. Unsynced writes made before it that overlap its range lose the
 * overlapping bytes (this write supersedes them there, on disk as in the file), so `durable ⊕ pending` still equals
 * the file's current bytes; the rest of them, like anything written after it, stays as unsynced as it was. An
 * unsynced truncate before it is made durable with everything up to the write (a journal commit carries the
 * metadata in order). A write that is no longer pending (an fdatasync made it durable first, or a failed one dropped
 * it) changes nothing.
 */
export function writeReturned(inode: Inode, op: DataOp): void {
  const index = inode.pending.indexOf(op)
  if (index < 0 || op.kind !== 'write') return
  const earlier = inode.pending.slice(0, index)
  const later = inode.pending.slice(index + 1)
  if (earlier.some((e) => e.kind === 'truncate')) {
    for (const e of inode.pending.slice(0, index + 1)) inode.durable = applyOp(inode.durable, e)
    inode.pending = later
    return
  }
  const from = op.position
  const to = op.position + op.bytes.byteLength
  inode.durable = applyOp(inode.durable, op)
  inode.pending = [...earlier.flatMap((e) => outside(e, from, to)), ...later]
}

/** The parts of a write outside [from, to). */
function outside(op: DataOp, from: number, to: number): DataOp[] {
  if (op.kind !== 'write') return [op]
  const start = op.position
  const end = start + op.bytes.byteLength
  if (end <= from || start >= to) return [op]
  const parts: DataOp[] = []
  if (start < from) parts.push({ kind: 'write', position: start, bytes: op.bytes.subarray(0, from - start) })
  if (end > to) parts.push({ kind: 'write', position: to, bytes: op.bytes.subarray(to - start) })
  return parts
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

/** This process's start time (field 22 of /proc/self/stat), or null where unknown. */
function processStartTime(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    return Number.isFinite(value) ? value : null
  } catch {
    return null
  }
}

/** Names after a crash: each directory's durable entries plus a prefix of its pending operations. */
export function survivingNames(
  dirs: ReadonlyMap<string, Dir>,
  mode: CrashMode,
  rng: Rng,
  counts: CrashCounts,
): Map<string, Map<string, Entry>> {
  const names = new Map<string, Map<string, Entry>>()
  for (const [path, dir] of dirs) {
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
  return names
}

/**
 * The directories and files reachable from `/` through `names`, in a fixed order, each file with the bytes of its
 * inode after the crash (computed once per inode, in that order).
 */
export function reachableFiles(
  names: ReadonlyMap<string, Map<string, Entry>>,
  image: (inode: Inode) => Uint8Array,
): { dirs: string[]; files: CrashedFile[] } {
  const dirs: string[] = []
  const files: CrashedFile[] = []
  const images = new Map<Inode, Uint8Array>()
  const walk = (path: string): void => {
    const entries = names.get(path)
    if (!entries) return
    dirs.push(path)
    for (const name of [...entries.keys()].sort()) {
      const entry = entries.get(name)!
      const child = posix.join(path, name)
      if (entry.kind === 'dir') {
        walk(child)
        continue
      }
      let data = images.get(entry.inode)
      if (data === undefined) {
        data = image(entry.inode)
        images.set(entry.inode, data)
      }
      files.push([child, entry.inode, data])
    }
  }
  walk('/')
  return { dirs, files }
}

/** Media corruption: with the given probability, flips 1–3 bits of bytes that were durable before the crash. */
export function flipDurableBits(files: readonly CrashedFile[], rng: Rng, options: CrashOptions): BitFlip[] {
  const flips: BitFlip[] = []
  if (options.flipProbability === undefined || !rng.chance(options.flipProbability)) return flips
  const target = options.flipTarget ?? isSegmentOrSnapshot
  const candidates = files.filter(
    ([path, inode, data]) => target(path) && Math.min(inode.durable.byteLength, data.byteLength) > 0,
  )
  if (candidates.length === 0) return flips
  const count = rng.int(1, 3)
  for (let i = 0; i < count; i++) {
    const [path, inode, data] = rng.pick(candidates)
    const offset = rng.int(0, Math.min(inode.durable.byteLength, data.byteLength) - 1)
    const bit = rng.int(0, 7)
    data[offset]! ^= 1 << bit
    flips.push({ path, offset, bit })
  }
  return flips
}

/**
 * What a boot finds of a lock file whose holder died: removed, rewritten with this process's pid and another start
 * time (stale by start time), or torn (stale because it does not parse). `bytes` is undefined when removed.
 */
export function bootLock(rng: Rng): { lock: LockOnBoot; bytes: Uint8Array | undefined } {
  const choice = rng.int(0, 2)
  if (choice === 1 && processStartTime() !== null) return { lock: 'stale-start-time', bytes: staleLockBytes() }
  if (choice !== 2) return { lock: 'removed', bytes: undefined }
  return { lock: 'torn', bytes: staleLockBytes().subarray(0, rng.int(0, 8)) }
}

function staleLockBytes(): Uint8Array {
  const holder = {
    pid: process.pid,
    startTime: (processStartTime() ?? 0) + 1,
    hostname: hostname(),
    acquiredAt: '2000-01-01T00:00:00.000Z',
  }
  return new TextEncoder().encode(JSON.stringify(holder))
}

/**
 * The directories as a restarted process sees them (no power loss): the same entries and pending operations, on
 * copies of the inodes. Pages a failed sync dropped were evicted meanwhile: such a file shows durable ⊕ pending.
 */
export function restartedDirs(dirs: ReadonlyMap<string, Dir>): Map<string, Dir> {
  const copies = new Map<Inode, Inode>()
  const copyEntry = (entry: Entry): Entry => {
    if (entry.kind === 'dir') return entry
    let inode = copies.get(entry.inode)
    if (!inode) {
      const old = entry.inode
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
  const out = new Map<string, Dir>()
  for (const [path, dir] of dirs) {
    out.set(path, {
      durable: copyMap(dir.durable),
      entries: copyMap(dir.entries),
      pending: dir.pending.map((op) => (op.kind === 'unlink' ? op : { ...op, entry: copyEntry(op.entry) })),
    })
  }
  return out
}

/** What of a file's unsynced operations reached the disk, in crash `mode`; see sim-fs.ts. */
export function crashData(
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
