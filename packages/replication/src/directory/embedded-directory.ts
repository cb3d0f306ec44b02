// The embedded directory's store: the user → home map in a homedb database of its own (@homedb/tables under the
// directory's data dir), so it is crash-safe like any user's data. Compare-and-set is a check and a write in one
// synchronous step of the event loop (nothing interleaves), acknowledged once the write is durable; answers that
// report an entry wait until what they report is durable too, so nobody acts on a change a crash could undo.
import type { FileLayer } from '@homedb/log'
import { type Db, lookupTable, openDb, schema, single } from '@homedb/tables'
import { type Clock, systemClock } from '../clock.js'
import type {
  Directory,
  DirectoryChange,
  DirectoryEntry,
  DirectoryUpdate,
  DirectoryWatchOptions,
} from '../directory.js'
import { checkUserName } from '../internal/user-names.js'
import { cryptoRandom, type Random } from '../random.js'
import { checkHomeUrl, checkSwap, entryOf } from './entry-codec.js'

/** An entry as stored, with the revision (the directory db's seq) of the commit that wrote it. */
interface StoredEntry extends DirectoryUpdate {
  readonly revision: number
}

const DirectorySchema = schema({
  server: single<{ tokenKey: string; createdAt: number }>(),
  entries: lookupTable<string, StoredEntry>(),
})

type DirectoryDb = Db<(typeof DirectorySchema)['tables']>

/** Changes remembered for long-polling watchers; a watcher further behind gets every entry again. */
const RECENT_CHANGES = 4096

/** What a watcher catching up receives. */
export interface ChangesAnswer {
  /** The directory's revision after these changes (ask again after it). */
  readonly revision: number
  /** True when the watcher was too far behind: `entries` is every entry. */
  readonly reset: boolean
  readonly entries: readonly DirectoryEntry[]
}

/** Options of {@link EmbeddedDirectory.open}. */
export interface EmbeddedDirectoryOptions {
  /** Directory holding the directory's db. */
  readonly dir: string
  readonly fileLayer?: FileLayer
  readonly random?: Random
  readonly clock?: Clock
}

/** The in-process directory behind `startDirectory` (its HTTP routes call it; `directory.local` exposes it). */
export class EmbeddedDirectory implements Directory {
  private readonly recent: { revision: number; user: string }[] = []
  private readonly listeners = new Set<(entry: DirectoryEntry) => void>()
  private readonly wakers = new Set<() => void>()

  /** Every change after this revision is in `recent` (changes before the store opened are not). */
  private knownFrom: number

  private constructor(
    private readonly db: DirectoryDb,
    private readonly clock: Clock,
  ) {
    this.knownFrom = db.seq
  }

  /** Opens (or creates) the store; a new store gets its deployment token key. */
  static async open(options: EmbeddedDirectoryOptions): Promise<EmbeddedDirectory> {
    const db = await openDb(DirectorySchema, {
      dir: options.dir,
      durability: 'fsync',
      // A server's control data is small and written rarely: its files hold their data only (README, "Storage").
      preallocate: false,
      ...(options.fileLayer === undefined ? {} : { fileLayer: options.fileLayer }),
    })
    if (db.server.get() === undefined) {
      const random = options.random ?? cryptoRandom
      db.server.insert({
        tokenKey: Buffer.from(random.bytes(32)).toString('base64url'),
        createdAt: (options.clock ?? systemClock).now(),
      })
      await db.sync()
    }
    return new EmbeddedDirectory(db, options.clock ?? systemClock)
  }

  /** The revision of the last change (the store's seq). */
  get revision(): number {
    return this.db.seq
  }

  /** Entries in the store now. */
  get size(): number {
    return this.db.entries.size
  }

  async lookup(user: string): Promise<DirectoryEntry | undefined> {
    checkUserName(user)
    await this.db.sync()
    return this.entry(user)
  }

  private entry(user: string): DirectoryEntry | undefined {
    const stored = this.db.entries.get(user)
    return stored === undefined ? undefined : entryOf(user, stored)
  }

  async register(user: string, home: string): Promise<DirectoryChange> {
    checkUserName(user)
    const url = checkHomeUrl(home)
    if (this.db.entries.has(user)) return this.refused(user)
    return this.write(user, { home: url, homeEpoch: 1, state: 'active' })
  }

  async compareAndSet(user: string, expectedEpoch: number, next: DirectoryUpdate): Promise<DirectoryChange> {
    const update = checkSwap(user, expectedEpoch, next)
    const current = this.db.entries.get(user)
    if (current === undefined || current.homeEpoch !== expectedEpoch) return this.refused(user)
    return this.write(user, update)
  }

  private async refused(user: string): Promise<DirectoryChange> {
    await this.db.sync()
    return { ok: false, current: this.entry(user) }
  }

  /** Writes synchronously (the check before it and this write are one step), then waits until it is durable. */
  private async write(user: string, update: DirectoryUpdate): Promise<DirectoryChange> {
    this.db.entries.insert(user, { ...update, revision: this.db.seq + 1 })
    const revision = this.db.seq
    await this.db.sync()
    this.recent.push({ revision, user })
    if (this.recent.length > RECENT_CHANGES) this.knownFrom = this.recent.shift()!.revision
    const entry = entryOf(user, update)
    for (const listener of [...this.listeners]) {
      try {
        listener(entry)
      } catch {
        // a listener's failure is its own
      }
    }
    for (const wake of [...this.wakers]) wake()
    return { ok: true, entry }
  }

  async list(): Promise<DirectoryEntry[]> {
    await this.db.sync()
    return [...this.db.entries].map(([user, stored]) => entryOf(user, stored))
  }

  watch(listener: (entry: DirectoryEntry) => void, _options?: DirectoryWatchOptions): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** The entries changed after `revision` (all of them with `reset` if the store no longer remembers that far). */
  async changesAfter(revision: number): Promise<ChangesAnswer> {
    await this.db.sync()
    const now = this.db.seq
    if (revision >= now) return { revision: now, reset: false, entries: [] }
    if (revision < this.knownFrom) return { revision: now, reset: true, entries: await this.list() }
    const users = new Set(this.recent.filter((c) => c.revision > revision).map((c) => c.user))
    const entries: DirectoryEntry[] = []
    for (const user of users) {
      const entry = this.entry(user)
      if (entry !== undefined) entries.push(entry)
    }
    return { revision: now, reset: false, entries }
  }

  /** Resolves after the next change, `ms`, or `signal`. */
  waitForChange(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const stop = new AbortController()
      const done = () => {
        this.wakers.delete(done)
        signal.removeEventListener('abort', done)
        stop.abort()
        resolve()
      }
      this.wakers.add(done)
      signal.addEventListener('abort', done, { once: true })
      if (signal.aborted) return done()
      void this.clock.sleep(ms, stop.signal).then(done)
    })
  }

  async tokenKey(): Promise<string> {
    return this.db.server.get()!.tokenKey
  }

  close(): Promise<void> {
    this.listeners.clear()
    for (const wake of [...this.wakers]) wake()
    return this.db.close()
  }
}
