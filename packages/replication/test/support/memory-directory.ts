// A Directory in memory for unit tests: the same compare-and-set rules as the real backends (it checks the same
// way), synchronous watchers, and a switch to make it unreachable.
import type { Directory, DirectoryChange, DirectoryEntry, DirectoryUpdate } from '../../src/index.js'

export class MemoryDirectory implements Directory {
  readonly entries = new Map<string, DirectoryEntry>()
  private readonly listeners = new Set<(entry: DirectoryEntry) => void>()
  /** While true every call rejects, as if the directory were unreachable. */
  down = false
  /** Calls refused while down. */
  refusals = 0
  readonly key = Buffer.alloc(32, 7).toString('base64url')

  private async up(): Promise<void> {
    if (this.down) this.refusals++
    if (this.down) throw Object.assign(new Error('directory unreachable'), { code: 'REPLICATION_DIRECTORY' })
  }

  private put(user: string, update: DirectoryUpdate): DirectoryEntry {
    const entry = { user, ...update }
    this.entries.set(user, entry)
    for (const listener of this.listeners) listener(entry)
    return entry
  }

  async lookup(user: string): Promise<DirectoryEntry | undefined> {
    await this.up()
    return this.entries.get(user)
  }

  async register(user: string, home: string): Promise<DirectoryChange> {
    await this.up()
    const current = this.entries.get(user)
    if (current !== undefined) return { ok: false, current }
    return { ok: true, entry: this.put(user, { home, homeEpoch: 1, state: 'active' }) }
  }

  async compareAndSet(user: string, expectedEpoch: number, next: DirectoryUpdate): Promise<DirectoryChange> {
    await this.up()
    const current = this.entries.get(user)
    if (current?.homeEpoch !== expectedEpoch) return { ok: false, current }
    return { ok: true, entry: this.put(user, next) }
  }

  async list(): Promise<DirectoryEntry[]> {
    await this.up()
    return [...this.entries.values()]
  }

  watch(listener: (entry: DirectoryEntry) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  async tokenKey(): Promise<string> {
    await this.up()
    return this.key
  }

  async close(): Promise<void> {
    this.listeners.clear()
  }
}
