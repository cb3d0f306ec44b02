// The home opens users' logs lazily and closes idle ones through a bounded LRU, so one server homes tens of
// thousands of users with bounded file descriptors and memory. A log in use (an append, a read, a waiting tail)
// is pinned and never closed under its user; the bound may be exceeded while more than `max` logs are pinned.
// A log that failed (an I/O error on its write path: fail-stop) is never opened again in this process: after a
// failed fdatasync the kernel may keep serving pages that never reached the disk (PostgreSQL's fsyncgate), so a
// reopen here could recover from data that is not there and acknowledge appends on top of it. Its user stays
// refused until the home restarts (PROTOCOL.md, "Append").
import { type FileLayer, type Log, LogConfigError, openLog, type Position } from '@homedb/log'

/** A pinned open log; call `release()` exactly once. */
export interface LogLease {
  readonly log: Log
  release(): void
}

interface Entry {
  readonly key: string
  readonly dir: string
  opening: Promise<Log | undefined> | undefined
  log: Log | undefined
  pins: number
  retired: boolean
}

export interface LogCacheOptions {
  readonly fs: FileLayer
  readonly max: number
  readonly segmentBytes: number | undefined
  readonly maxPayloadBytes: number
  /** Called once per open (re-applies the user's retention holds, records its latest snapshot); a failure closes it. */
  readonly onOpen: (key: string, log: Log) => void | Promise<void>
}

/** Thrown by {@link LogCache.acquire} for a user whose log failed in this process. */
export class FailedLogError extends Error {
  override readonly name = 'FailedLogError'
  constructor(
    readonly key: string,
    readonly failure: Error,
  ) {
    super(`the log of ${key} failed (${failure.message}): the home must restart before it is opened again`)
  }
}

export class LogCache {
  private readonly entries = new Map<string, Entry>()
  private readonly failed = new Map<string, Error>()
  private closingAll = false

  constructor(private readonly options: LogCacheOptions) {}

  /** Logs open now. */
  get openCount(): number {
    let n = 0
    for (const e of this.entries.values()) if (e.log !== undefined) n++
    return n
  }

  /**
   * Pins the log of `key` in `dir`, opening it if needed. Without `create`, a directory that holds no log gives
   * `undefined`; with it, the log is created there with that id and start.
   */
  async acquire(key: string, dir: string, create?: { logId: string; start: Position }): Promise<LogLease | undefined> {
    const failure = this.failed.get(key)
    if (failure !== undefined) throw new FailedLogError(key, failure)
    let entry = this.entries.get(key)
    if (entry !== undefined && (entry.retired || entry.dir !== dir)) {
      this.retire(entry)
      entry = undefined
    }
    if (entry === undefined) {
      entry = { key, dir, opening: undefined, log: undefined, pins: 0, retired: false }
      this.entries.set(key, entry)
    } else {
      // Most recently used last.
      this.entries.delete(key)
      this.entries.set(key, entry)
    }
    entry.pins++
    try {
      const log = await this.open(entry, create)
      if (log === undefined) {
        this.unpin(entry)
        return undefined
      }
      let released = false
      return {
        log,
        release: () => {
          if (released) return
          released = true
          this.unpin(entry)
        },
      }
    } catch (error) {
      this.unpin(entry)
      throw error
    }
  }

  private async open(entry: Entry, create: { logId: string; start: Position } | undefined): Promise<Log | undefined> {
    if (entry.log?.failure !== undefined) {
      this.fail(entry.key, entry.log.failure)
      throw new FailedLogError(entry.key, entry.log.failure)
    }
    if (entry.log !== undefined && !entry.log.closed) return entry.log
    entry.log = undefined
    entry.opening ??= this.openLog(entry, create).finally(() => {
      entry.opening = undefined
    })
    const log = await entry.opening
    if (log === undefined && create !== undefined) return this.open(entry, create)
    return log
  }

  private async openLog(
    entry: Entry,
    create: { logId: string; start: Position } | undefined,
  ): Promise<Log | undefined> {
    const { fs } = this.options
    if (create === undefined && (await fs.size(entry.dir)) === undefined) return undefined
    let log: Log
    try {
      log = await openLog(entry.dir, {
        durability: 'fsync',
        // A home holds many logs, most of them small, and reports bytes on disk from file sizes: segments hold
        // their data only (README, "Storage"). It keeps the frames it appended last itself (recent-frames.ts).
        preallocate: false,
        keepRecentBytes: 0,
        fileLayer: fs,
        maxPayloadBytes: this.options.maxPayloadBytes,
        ...(this.options.segmentBytes === undefined ? {} : { segmentBytes: this.options.segmentBytes }),
        ...(create === undefined ? { mustExist: true } : { create }),
      })
    } catch (error) {
      // The directory is there but holds no log: a home that died while it created the user's first log (before
      // anything in it was acknowledged). No log, as if the directory were not there; the next append creates it.
      if (create === undefined && error instanceof LogConfigError && error.context.dir === entry.dir) return undefined
      throw error
    }
    try {
      await this.options.onOpen(entry.key, log)
    } catch (error) {
      await log.close().catch(() => undefined)
      throw error
    }
    entry.log = log
    return log
  }

  private unpin(entry: Entry): void {
    entry.pins--
    if (entry.retired && entry.pins === 0) {
      void this.closeEntry(entry)
      return
    }
    this.evict()
  }

  /** Closes the least recently used unpinned logs while more than `max` are open. */
  private evict(): void {
    let open = this.openCount
    if (open <= this.options.max) return
    for (const entry of [...this.entries.values()]) {
      if (open <= this.options.max) break
      if (entry.pins > 0 || entry.log === undefined) continue
      this.entries.delete(entry.key)
      void this.closeEntry(entry)
      open--
    }
  }

  /**
   * `key`'s log failed (fail-stop): it closes once nobody uses it and is not opened again in this process (see the
   * file header); {@link acquire} throws {@link FailedLogError} for it from now on.
   */
  fail(key: string, failure: Error): void {
    if (!this.failed.has(key)) this.failed.set(key, failure)
    this.invalidate(key)
  }

  /** Why `key`'s log failed, if it did in this process. */
  failure(key: string): Error | undefined {
    return this.failed.get(key)
  }

  /** Users whose log failed in this process. */
  get failedCount(): number {
    return this.failed.size
  }

  /** Stops handing out `key`'s log; it closes once nobody uses it (a new generation replaced it). */
  invalidate(key: string): void {
    const entry = this.entries.get(key)
    if (entry !== undefined) this.retire(entry)
  }

  /** Like {@link invalidate}, and resolves once the log is closed if nobody uses it (a user that moved). */
  async drop(key: string): Promise<void> {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    entry.retired = true
    this.entries.delete(key)
    if (entry.pins === 0) await this.closeEntry(entry)
  }

  private retire(entry: Entry): void {
    entry.retired = true
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key)
    if (entry.pins === 0) void this.closeEntry(entry)
  }

  private async closeEntry(entry: Entry): Promise<void> {
    await entry.opening?.catch(() => undefined)
    const log = entry.log
    entry.log = undefined
    await log?.close().catch(() => undefined)
  }

  /** Closes every log (after in-flight requests finished). */
  async closeAll(): Promise<void> {
    if (this.closingAll) return
    this.closingAll = true
    const all = [...this.entries.values()]
    this.entries.clear()
    await Promise.all(all.map((e) => this.closeEntry(e)))
  }
}
