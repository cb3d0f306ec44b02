// The engine of openUserDbs: an LRU of open user dbs, each with its shipper, sharing one directory client and one
// transport. Opening restores from the home when the machine has no copy; closing waits for nothing unless asked
// (an unshipped db keeps its pending marker and is shipped later by the redelivery loop); idle dbs close only once
// their home has everything; `close()` delivers within its timeout.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Db, openDb, type Schema, type TableDefs } from '@homedb/tables'
import { type Clock, systemClock } from '../clock.js'
import type { Directory } from '../directory.js'
import { ReplicationStoppedError } from '../errors.js'
import { homeSource } from '../home-source.js'
import { httpTransport } from '../http-transport.js'
import { openDirectory, ownsDirectory } from '../open-directory.js'
import { type Shipper, ship } from '../ship.js'
import type { Transport } from '../transport.js'
import type { UserDbsOptions } from '../user-dbs-options.js'
import type { UserDbsCloseReport, UserDbsStatus } from '../user-dbs-status.js'
import { PendingMarkers } from './pending-markers.js'
import { checkUserName } from './user-names.js'

interface Opened<D extends TableDefs> {
  readonly db: Db<D>
  readonly shipper: Shipper
}

interface Entry<D extends TableDefs> {
  readonly user: string
  readonly ready: Promise<Opened<D>>
  opened: Opened<D> | undefined
  lastUsed: number
  pins: number
}

export class UserDbPool<D extends TableDefs> {
  private readonly entries = new Map<string, Entry<D>>()
  private readonly closing = new Map<string, Promise<boolean>>()
  private readonly pending = new Set<string>()
  private readonly markers: PendingMarkers
  private readonly directory: Directory | undefined
  private readonly transport: Transport
  private readonly clock: Clock
  private readonly stopper = new AbortController()
  private loops: Promise<unknown> | undefined
  private closed: Promise<UserDbsCloseReport> | undefined

  constructor(
    private readonly schema: Schema<D>,
    private readonly options: UserDbsOptions,
  ) {
    this.markers = new PendingMarkers(options.dir)
    this.directory = options.directory === undefined ? undefined : openDirectory(options.directory)
    this.transport = options.transport ?? httpTransport({ maxSockets: 64 })
    this.clock = options.clock ?? systemClock
  }

  start(): void {
    this.loops = Promise.all([this.sweepLoop(), this.redeliverLoop()])
  }

  private get maxOpen(): number {
    return this.options.maxOpen ?? 256
  }

  async get(user: string): Promise<Db<D>> {
    return (await this.acquire(user, false)).db
  }

  async use<T>(user: string, fn: (db: Db<D>) => T | Promise<T>): Promise<T> {
    const entry = await this.entryFor(user)
    entry.pins++
    try {
      const { db } = await entry.ready
      return await fn(db)
    } finally {
      entry.pins--
      entry.lastUsed = this.clock.now()
    }
  }

  private async acquire(user: string, background: boolean): Promise<Opened<D>> {
    const entry = await this.entryFor(user, background)
    return entry.ready
  }

  /** The user's entry (opening it if needed, after a close in progress finished). */
  private async entryFor(user: string, background = false): Promise<Entry<D>> {
    checkUserName(user)
    for (;;) {
      if (this.closed !== undefined) throw new ReplicationStoppedError('REPLICATION_CLOSED', 'the user dbs are closed')
      const leaving = this.closing.get(user)
      if (leaving !== undefined) {
        await leaving
        continue
      }
      let entry = this.entries.get(user)
      if (entry === undefined) {
        entry = this.create(user)
      } else {
        this.entries.delete(user)
        this.entries.set(user, entry)
      }
      if (!background) entry.lastUsed = this.clock.now()
      this.evict()
      return entry
    }
  }

  private create(user: string): Entry<D> {
    const entry: Entry<D> = { user, ready: this.open(user), opened: undefined, lastUsed: 0, pins: 0 }
    this.entries.set(user, entry)
    entry.ready.then(
      (opened) => {
        entry.opened = opened
      },
      () => {
        if (this.entries.get(user) === entry) this.entries.delete(user)
      },
    )
    return entry
  }

  /** Opens a user's db (restored from its home when this machine has none) and starts its shipper. */
  private async open(user: string): Promise<Opened<D>> {
    const token = await this.options.credentials(user)
    const dir = join(this.options.dir, user)
    const where = this.directory === undefined ? { home: this.options.home! } : { directory: this.directory }
    const bootstrap = (await hasFiles(dir)) ? undefined : await this.bootstrapFor(user, token, where)
    const db = await openDb(this.schema, {
      ...this.options.db,
      dir,
      ...(bootstrap === undefined ? {} : { bootstrap }),
    })
    try {
      await this.markers.mark(user)
      return { db, shipper: this.shipperFor(db, user, token, where) }
    } catch (error) {
      await db.close().catch(() => undefined)
      throw error
    }
  }

  private shipperFor(db: Db<D>, user: string, token: string, where: { home: string } | { directory: Directory }) {
    const shipper = ship(db, {
      ...where,
      user,
      token,
      transport: this.transport,
      clock: this.clock,
      ...(this.options.retry === undefined ? {} : { retry: this.options.retry }),
      ...(this.options.maxBatchBytes === undefined ? {} : { maxBatchBytes: this.options.maxBatchBytes }),
    })
    shipper.onNotice((notice) => {
      if (notice.type === 'state' && ['failed', 'diverged', 'incompatible'].includes(notice.to)) {
        this.options.onError?.(user, notice.status.lastError ?? new Error(notice.to))
      }
    })
    return shipper
  }

  /** A bootstrap source for a user with no local copy, unless its home holds no log yet (a new user). */
  private async bootstrapFor(user: string, token: string, where: { home: string } | { directory: Directory }) {
    const source = homeSource({ ...where, user, token, transport: this.transport })
    try {
      await source.describe()
      return source
    } catch (error) {
      if ((error as { context?: { wire?: string } }).context?.wire === 'no-log') return undefined
      throw error
    }
  }

  /** Closes the least recently used unpinned dbs while more than `maxOpen` are open. */
  private evict(): void {
    let over = this.entries.size - this.maxOpen
    for (const entry of [...this.entries.values()]) {
      if (over <= 0) return
      if (entry.pins > 0 || entry.opened === undefined) continue
      void this.closeEntry(entry, 0)
      over--
    }
  }

  /** Closes a user's db after waiting up to `waitMs` for its shipper; true if its home has every commit. */
  private closeEntry(entry: Entry<D>, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.entries.get(entry.user) === entry) this.entries.delete(entry.user)
    const done = (async () => {
      const opened = await entry.ready.catch(() => undefined)
      if (opened === undefined) return true
      const delivered = await this.flushed(opened.shipper, waitMs, signal)
      await opened.shipper.close()
      await opened.db.close().catch(() => undefined)
      if (delivered) {
        this.pending.delete(entry.user)
        await this.markers.clear(entry.user)
      } else this.pending.add(entry.user)
      return delivered
    })().finally(() => this.closing.delete(entry.user))
    this.closing.set(entry.user, done)
    return done
  }

  private async flushed(shipper: Shipper, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (shipper.status.lagCommits === 0) return true
    if (waitMs <= 0) return false
    const stop = new AbortController()
    if (signal?.aborted) return false
    signal?.addEventListener('abort', () => stop.abort(), { once: true })
    const result = await Promise.race([
      shipper.flushed().then(
        () => true,
        () => false,
      ),
      this.clock.sleep(waitMs, stop.signal).then(() => false),
    ])
    stop.abort()
    return result
  }

  /** Closes dbs idle for `idleMs` whose commits all reached their home. */
  private async sweepLoop(): Promise<void> {
    const idleMs = this.options.idleMs ?? 30_000
    while (!this.stopper.signal.aborted) {
      await this.clock.sleep(Math.max(50, idleMs / 2), this.stopper.signal)
      const now = this.clock.now()
      for (const entry of [...this.entries.values()]) {
        const opened = entry.opened
        if (opened === undefined || entry.pins > 0 || now - entry.lastUsed < idleMs) continue
        if (opened.shipper.status.lagCommits === 0) void this.closeEntry(entry, 0)
      }
    }
  }

  /** Ships, one user at a time, what dbs closed unshipped left on disk (this run's, and earlier runs' markers). */
  private async redeliverLoop(): Promise<void> {
    for (const user of await this.markers.list().catch(() => [])) if (!this.entries.has(user)) this.pending.add(user)
    while (!this.stopper.signal.aborted) {
      const user = [...this.pending].find((u) => !this.entries.has(u) && !this.closing.has(u))
      if (user === undefined || this.entries.size >= this.maxOpen) {
        await this.clock.sleep(1_000, this.stopper.signal)
        continue
      }
      const delivered = await this.redeliver(user, 30_000)
      if (!delivered) await this.clock.sleep(5_000, this.stopper.signal)
    }
  }

  private async redeliver(user: string, waitMs: number): Promise<boolean> {
    try {
      await this.acquire(user, true)
    } catch (error) {
      this.options.onError?.(user, error)
      return false
    }
    const entry = this.entries.get(user)
    return entry === undefined ? false : this.closeEntry(entry, waitMs, this.stopper.signal)
  }

  status(): UserDbsStatus {
    const users = [...this.entries.values()].flatMap((e) =>
      e.opened === undefined
        ? []
        : [{ user: e.user, state: e.opened.shipper.status.state, lagCommits: e.opened.shipper.status.lagCommits }],
    )
    return { open: this.entries.size, pending: [...this.pending], users }
  }

  close(): Promise<UserDbsCloseReport> {
    if (this.closed === undefined) {
      // The clock's waits do not keep the process alive; delivering what is left on close must.
      const alive = setInterval(() => undefined, 60_000)
      this.closed = this.doClose().finally(() => clearInterval(alive))
    }
    return this.closed
  }

  private async doClose(): Promise<UserDbsCloseReport> {
    this.stopper.abort()
    const deadline = this.clock.now() + (this.options.closeTimeoutMs ?? 10_000)
    const left = () => Math.max(0, deadline - this.clock.now())
    const results = new Map<string, boolean>()
    await Promise.all(
      [...this.entries.values()].map(async (e) => results.set(e.user, await this.closeEntry(e, left()))),
    )
    await Promise.all([...this.closing.entries()].map(async ([user, p]) => results.set(user, await p)))
    await this.loops
    for (const user of [...this.pending]) {
      if (left() <= 0) break
      results.set(user, await this.deliverOnClose(user, left()))
    }
    for (const user of this.pending) if (!results.has(user)) results.set(user, false)
    if (this.directory !== undefined && ownsDirectory(this.options.directory!)) await this.directory.close()
    if (this.options.transport === undefined) this.transport.close?.()
    const delivered = [...results].filter(([, ok]) => ok).map(([u]) => u)
    const undelivered = [...results].filter(([, ok]) => !ok).map(([u]) => u)
    return { delivered, undelivered }
  }

  /** During close: opens a pending user's db only to ship it, within `waitMs`. */
  private async deliverOnClose(user: string, waitMs: number): Promise<boolean> {
    try {
      const entry = this.create(user)
      return await this.closeEntry(entry, waitMs)
    } catch (error) {
      this.options.onError?.(user, error)
      return false
    }
  }
}

async function hasFiles(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0
  } catch {
    return false
  }
}
