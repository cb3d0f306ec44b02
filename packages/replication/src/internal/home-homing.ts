// A home's link to its deployment's directory: it registers the users added here, watches the directory (and
// reconciles on a timer in case a change was missed), expires move leases, settles reservations and deletes moved
// users' copies after their window. Every decision it takes from the directory is one of the transitions in
// user-transitions.ts, made under the user's lock: a frozen user whose lease expired is taken back only through a
// compare-and-set that raises its homeEpoch (so a late mover's switch can no longer succeed), or declared moved if
// the epoch already advanced — never both, never neither while the directory answers.

import { checkHomeUrl } from '../directory/entry-codec.js'
import type { Directory, DirectoryEntry } from '../directory.js'
import { ReplicationConfigError } from '../errors.js'
import type { HomeContext } from './home-context.js'
import { userLogDir } from './home-context.js'
import type { HomingLink, HomingSettings, Settled } from './homing-link.js'
import type { UserRecord } from './meta-store.js'
import type { CopyJob } from './move-copy.js'
import { activate, dropReservation, emptyDir, moveAway, stateOf, unfreeze } from './user-transitions.js'

export class HomeHoming implements HomingLink {
  /** The URL the directory names this home by (set when the server listens, or `publicUrl`). */
  url: string | undefined
  /** Copy jobs of the users reserved here (a move's target), by user. */
  readonly jobs = new Map<string, CopyJob>()
  private readonly leases = new Map<string, AbortController>()
  private readonly stopper = new AbortController()
  private stopWatch: (() => void) | undefined
  private ticker: Promise<void> | undefined

  constructor(
    private readonly ctx: HomeContext,
    readonly settings: HomingSettings,
  ) {
    this.url = settings.publicUrl === undefined ? undefined : checkHomeUrl(settings.publicUrl)
  }

  get directory(): Directory {
    return this.settings.directory
  }

  /** Starts watching and reconciling, once the home listens at `url` (ignored if `publicUrl` was given). */
  start(url: string): void {
    this.url ??= checkHomeUrl(url)
    if (this.ticker !== undefined) return
    this.stopWatch = this.directory.watch((entry) => void this.onEntry(entry).catch(() => undefined), {
      onError: () => undefined,
    })
    for (const [user, record] of this.ctx.meta.users()) {
      if (stateOf(record) === 'frozen' && record.freeze !== undefined) this.scheduleLease(user, record.freeze)
    }
    this.ticker = this.tickLoop()
  }

  /** This home's URL; throws if the home does not know it yet. */
  self(): string {
    if (this.url === undefined) {
      throw new ReplicationConfigError('REPLICATION_CONFIG', 'the home does not know its URL yet: give publicUrl')
    }
    return this.url
  }

  /** Registers a user added here in the directory (idempotent when the directory already names this home). */
  async register(user: string): Promise<void> {
    const change = await this.directory.register(user, this.self())
    if (change.ok || change.current?.home === this.self()) return
    throw new ReplicationConfigError('REPLICATION_USER_EXISTS', `user ${user} lives at ${change.current?.home}`, {
      user,
      home: change.current?.home,
    })
  }

  private locked<T>(user: string, fn: (record: UserRecord) => Promise<T>): Promise<T | undefined> {
    return this.ctx.mutex.run(user, async () => {
      const record = this.ctx.meta.user(user)
      return record === undefined ? undefined : fn(record)
    })
  }

  /** Reacts to a directory change: a reservation it switched to here activates; a frozen user it moved away leaves. */
  async onEntry(entry: DirectoryEntry): Promise<void> {
    await this.locked(entry.user, async (record) => {
      const state = stateOf(record)
      if (state === 'reserved') await this.settleWith(entry.user, record, entry)
      else if ((state === 'frozen' || state === 'active') && entry.homeEpoch > record.epoch) {
        await this.adopt(entry.user, record, entry)
      }
    })
  }

  /** A directory epoch past this home's: the user moved away (or this home took it back and lost the record). */
  private async adopt(user: string, record: UserRecord, entry: DirectoryEntry): Promise<void> {
    this.cancelLease(user)
    if (entry.home === this.url) await unfreeze(this.ctx, user, record, entry.homeEpoch)
    else await moveAway(this.ctx, user, record, entry.home, entry.homeEpoch)
  }

  /**
   * Settles a reserved user against the directory now: active here if the directory names this home at the
   * reserved epoch; dropped once the directory reached that epoch for another home (the move lost, or the source
   * took its user back). Anything else (a move still under way, or one that stopped before the switch) waits: a
   * reservation never serves anything, and only an epoch past it proves no mover can still switch to it.
   */
  async settleReserved(user: string): Promise<Settled> {
    let entry: DirectoryEntry | undefined
    try {
      entry = await this.directory.lookup(user)
    } catch {
      return undefined
    }
    const settled = await this.locked(user, async (record) =>
      stateOf(record) === 'reserved' ? this.settleWith(user, record, entry) : ('active' as const),
    )
    return settled ?? entry
  }

  private async settleWith(user: string, record: UserRecord, entry: DirectoryEntry | undefined): Promise<Settled> {
    if (entry === undefined || entry.homeEpoch < record.epoch) return entry
    return (await this.abandon(user, record, entry)) ? 'active' : entry
  }

  /**
   * Ends a reservation (caller holds the user's lock): activates it if `entry` names this home at the reserved
   * epoch, drops it otherwise. True if it activated.
   */
  async abandon(user: string, record: UserRecord, entry: DirectoryEntry | undefined): Promise<boolean> {
    const job = this.jobs.get(user)
    this.jobs.delete(user)
    await job?.stop()
    if (entry !== undefined && entry.home === record.reserve!.as && entry.homeEpoch === record.epoch) {
      const snapshot = job?.snapshot ?? this.ctx.meta.user(user)?.snapshot ?? null
      await activate(this.ctx, user, this.ctx.meta.user(user) ?? record, snapshot)
      return true
    }
    await dropReservation(this.ctx, user, this.ctx.meta.user(user) ?? record)
    return false
  }

  /** Arms the lease timer of a frozen user. */
  scheduleLease(user: string, freeze: { readonly moveId: string; readonly until: number }): void {
    this.cancelLease(user)
    const timer = new AbortController()
    this.leases.set(user, timer)
    const wait = Math.max(0, freeze.until - this.ctx.clock.now())
    void this.ctx.clock.sleep(wait, timer.signal).then(async () => {
      if (timer.signal.aborted || this.stopper.signal.aborted) return
      this.leases.delete(user)
      const done = await this.expireLease(user, freeze.moveId).catch(() => false)
      if (!done && !this.stopper.signal.aborted && !timer.signal.aborted) {
        this.scheduleLease(user, { moveId: freeze.moveId, until: this.ctx.clock.now() + 1_000 })
      }
    })
  }

  cancelLease(user: string): void {
    this.leases.get(user)?.abort()
    this.leases.delete(user)
  }

  /**
   * A frozen user's lease ran out with no word from its mover: ask the directory. Taken back (compare-and-set to
   * homeEpoch + 1 naming this home) or moved away; false if the directory did not answer (try again later).
   */
  async expireLease(user: string, moveId: string): Promise<boolean> {
    const done = await this.locked(user, async (record) => {
      if (stateOf(record) !== 'frozen' || record.freeze?.moveId !== moveId) return true
      for (let attempt = 0; attempt < 3; attempt++) {
        const entry = await this.directory.lookup(user)
        if (entry === undefined) {
          await unfreeze(this.ctx, user, record, record.epoch)
          return true
        }
        if (entry.homeEpoch > record.epoch) {
          await this.adopt(user, record, entry)
          return true
        }
        if (entry.homeEpoch < record.epoch || entry.home !== this.url) return false
        const next = { home: this.url, homeEpoch: record.epoch + 1, state: 'active' as const }
        const change = await this.directory.compareAndSet(user, record.epoch, next)
        if (change.ok) {
          await unfreeze(this.ctx, user, record, next.homeEpoch)
          return true
        }
      }
      return false
    })
    return done ?? true
  }

  /** Reconciles at once (a restarted target activates a switch it missed), then every `reconcileIntervalMs`. */
  private async tickLoop(): Promise<void> {
    while (!this.stopper.signal.aborted) {
      await this.reconcile().catch(() => undefined)
      await this.ctx.clock.sleep(this.settings.reconcileIntervalMs, this.stopper.signal)
    }
  }

  /** One pass: stale reservations, orphaned copies, missed leases, moved copies past their window. */
  async reconcile(): Promise<void> {
    const now = this.ctx.clock.now()
    for (const [user, record] of [...this.ctx.meta.users()]) {
      const state = stateOf(record)
      const job = this.jobs.get(user)
      if (state === 'reserved' && job === undefined) await this.settleReserved(user)
      else if (state === 'reserved' && !job!.reached && now - job!.lastAsked > this.settings.reservationIdleMs) {
        // No mover asked about this copy for long and none was told it is complete: no switch can name it.
        await this.locked(user, async (r) => {
          if (this.jobs.get(user) === job) await this.abandon(user, r, undefined)
        })
      } else if (state === 'frozen' && record.freeze !== undefined && !this.leases.has(user)) {
        this.scheduleLease(user, record.freeze)
      } else if (
        state === 'moved' &&
        record.movedTo?.copy &&
        now - record.movedTo.at > this.settings.movedRetentionMs
      ) {
        await this.locked(user, async (r) => {
          if (stateOf(r) !== 'moved' || !r.movedTo?.copy) return
          await emptyDir(this.ctx, userLogDir(this.ctx, user, r.generation))
          await this.ctx.meta.putUser(user, { ...r, movedTo: { ...r.movedTo, copy: false } })
        })
      }
    }
  }

  async close(): Promise<void> {
    this.stopper.abort()
    this.stopWatch?.()
    for (const timer of this.leases.values()) timer.abort()
    this.leases.clear()
    await Promise.all([...this.jobs.values()].map((job) => job.stop()))
    await this.ticker
    if (this.settings.ownsDirectory) await this.directory.close()
    if (this.settings.ownsTransport) this.settings.transport.close?.()
  }
}
