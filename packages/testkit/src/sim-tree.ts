// The directory tree of the simulated file system (sim-fs.ts) and direct access to it for tests: reading a file or
// a listing, putting files and directories in place durably, counting what is unsynced. Nothing here is counted as
// a call, fails, or waits; the file layer's operations, with their crash and fault rules, are SimFs's.
import { posix } from 'node:path'
import type { Dir, Entry, Inode } from './sim-disk.js'

/** See the file header. */
export class SimTree {
  /** Every directory by normalized path, `/` included. */
  protected readonly dirs = new Map<string, Dir>()
  protected nextInode = 1

  constructor() {
    this.dirs.set('/', { durable: new Map(), entries: new Map(), pending: [] })
  }

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

  protected ensureDir(path: string): void {
    const norm = posix.normalize(path)
    if (this.dirs.has(norm)) return
    const parent = posix.dirname(norm)
    this.ensureDir(parent)
    this.dirs.set(norm, { durable: new Map(), entries: new Map(), pending: [] })
    const p = this.dirs.get(parent)!
    p.entries.set(posix.basename(norm), { kind: 'dir' })
    p.durable.set(posix.basename(norm), { kind: 'dir' })
  }

  protected lookup(path: string): Entry | undefined {
    const norm = posix.normalize(path)
    if (this.dirs.has(norm)) return { kind: 'dir' }
    return this.dirs.get(posix.dirname(norm))?.entries.get(posix.basename(norm))
  }
}
