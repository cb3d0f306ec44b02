// The home's live view, one event at a time for one page: the server (users, open logs, waiting tails, requests in
// flight), the figures sampled since the page's last event, the moves in flight (started from this page, or
// holding a user here as a move's source or target) and the users the page's filter matches — the first
// `maxListedUsers` of them, as changes to what the page already has. Heads not seen since the server started are
// learned by opening a few logs per event; bytes on disk are measured a few users per event.

import { type HomeContext, userLogDir, waitingTails } from '../internal/home-context.js'
import type { UserRecord } from '../internal/meta-store.js'
import { statusFields } from '../internal/user-transitions.js'
import type { LogPosition } from '../position.js'
import type { UserStatus } from '../user-status.js'
import type { DiskUsage } from './disk-usage.js'
import type { HomeFigures } from './home-figures.js'
import { RowDiff } from './row-diff.js'
import type { UiMove, UiMoves } from './ui-moves.js'
import type { WriterActivity, WriterView } from './writer-activity.js'

/** Logs opened per event at most to learn a head not seen since the server started. */
const PROBES_PER_EVENT = 8

/** One user as the live view lists it. */
export interface UserRow {
  readonly name: string
  readonly state: UserStatus['state']
  readonly epoch: number
  readonly generation: number
  /** Where the user lives when it moved away. */
  readonly movedTo: { readonly home: string; readonly epoch: number } | null
  readonly head: Pick<LogPosition, 'seq' | 'chain'> | null
  readonly bytes: number | null
  readonly snapshot: { readonly seq: number; readonly bytes: number } | null
  readonly writer: WriterView
  readonly replicas: readonly { name: string; seq: number; lag: number | null; confirmedAt: number }[]
  readonly move: UserStatus['move'] | null
}

/** A move in the live view: one this page's server runs (`mover`), or one holding a user here. */
export type MoveRow =
  | ({ readonly role: 'mover' } & UiMove)
  | {
      readonly role: 'source' | 'target'
      readonly user: string
      readonly other: string | null
      readonly copied: number | null
      readonly sourceHead: number | null
      readonly copiedBytes: number | null
    }

/** What the feed reads. */
export interface HomeFeedDeps {
  readonly ctx: HomeContext
  readonly disk: DiskUsage
  readonly figures: HomeFigures
  readonly writers: WriterActivity
  readonly moves: UiMoves
  readonly maxListed: number
  readonly inFlight: () => number
}

/** The feed of one page. */
export class HomeFeed {
  private readonly users = new RowDiff<UserRow>()
  private lastSample: number | undefined
  /** Users whose log was looked for and not found (until their head shows up). */
  private readonly noLog = new Set<string>()

  /** `filter`: users whose name contains it; `user`: that user only. */
  constructor(
    private readonly deps: HomeFeedDeps,
    private readonly filter: { readonly text: string } | { readonly user: string },
  ) {}

  /** The next event's data. */
  async next(): Promise<unknown> {
    const { ctx } = this.deps
    const { listed, matched, held } = this.scan()
    await this.probeHeads(listed)
    const heads = listed.map(([name]) => ({ name, seq: ctx.heads.get(name)?.seq ?? null }))
    await this.deps.disk.refresh(heads, ctx.clock.now())
    for (const [name] of listed) if (ctx.heads.has(name)) this.noLog.delete(name)
    const rows = listed
      .map(([name, record]) => userRow(this.deps, name, record))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
    const figures = this.deps.figures.since(this.lastSample)
    this.lastSample = figures.at(-1)?.at ?? this.lastSample
    return {
      kind: 'home',
      at: ctx.clock.now(),
      server: this.server(),
      figures,
      moves: [...this.deps.moves.list().map((m) => ({ role: 'mover' as const, ...m })), ...held],
      users: { ...this.users.next(rows), total: ctx.meta.userCount, matched, limit: this.deps.maxListed },
    }
  }

  private server() {
    const { ctx } = this.deps
    return {
      url: ctx.homing?.url ?? null,
      directory: ctx.homing !== undefined,
      users: ctx.meta.userCount,
      openLogs: ctx.cache.openCount,
      maxOpenLogs: ctx.options.maxOpenLogs,
      tails: waitingTails(ctx),
      inFlight: this.deps.inFlight(),
    }
  }

  /** The users the filter matches (the first `maxListed`), how many match, and the users a move holds here. */
  private scan(): { listed: [string, UserRecord][]; matched: number; held: MoveRow[] } {
    const { ctx, maxListed } = this.deps
    const listed: [string, UserRecord][] = []
    const held: MoveRow[] = []
    let matched = 0
    for (const [name, record] of ctx.meta.users()) {
      if (record.state === 'frozen' || record.state === 'reserved') held.push(this.held(name, record))
      if ('user' in this.filter ? name !== this.filter.user : !name.includes(this.filter.text)) continue
      matched++
      if (listed.length < maxListed) listed.push([name, record])
    }
    return { listed, matched, held }
  }

  private held(name: string, record: UserRecord): MoveRow {
    const move = statusFields(this.deps.ctx, name, record).move
    return {
      role: move?.role ?? (record.state === 'frozen' ? 'source' : 'target'),
      user: name,
      other: move?.other ?? null,
      copied: move?.head?.seq ?? null,
      sourceHead: move?.sourceHead?.seq ?? null,
      copiedBytes: move?.copiedBytes ?? null,
    }
  }

  /** Opens the logs of a few listed users whose head the server has not seen yet (opening records it). */
  private async probeHeads(listed: readonly [string, UserRecord][]): Promise<void> {
    const { ctx } = this.deps
    let probes = 0
    for (const [name, record] of listed) {
      if (probes >= PROBES_PER_EVENT) return
      const state = record.state ?? 'active'
      if (ctx.heads.has(name) || this.noLog.has(name) || (state !== 'active' && state !== 'frozen')) continue
      probes++
      const lease = await ctx.cache.acquire(name, userLogDir(ctx, name, record.generation)).catch(() => undefined)
      if (lease === undefined) this.noLog.add(name)
      lease?.release()
    }
  }
}

/** One user's row (its head as last seen, its bytes on disk as last measured). */
export function userRow(
  deps: Pick<HomeFeedDeps, 'ctx' | 'disk' | 'writers'>,
  name: string,
  record: UserRecord,
): UserRow {
  const { ctx } = deps
  const head = ctx.heads.get(name) ?? null
  const status = statusFields(ctx, name, record)
  const replicas = [...ctx.meta.slots(name)].map(([slot, s]) => ({
    name: slot,
    seq: s.seq,
    lag: head === null ? null : Math.max(0, head.seq - s.seq),
    confirmedAt: s.confirmedAt,
  }))
  return {
    name,
    state: status.state,
    epoch: record.epoch,
    generation: record.generation,
    movedTo: status.movedTo ?? null,
    head: head === null ? null : { seq: head.seq, chain: head.chain },
    bytes: deps.disk.bytes(name),
    snapshot: record.snapshot === null ? null : { seq: record.snapshot.seq, bytes: record.snapshot.bytes },
    writer: deps.writers.view(name),
    replicas,
    move: status.move ?? null,
  }
}
