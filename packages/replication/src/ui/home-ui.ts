// The operator page of a home server (`/ui`): every user with its head, bytes on disk, writer and replicas, the
// moves in flight and the server's figures, live; one user's tables and last commits; and two actions, a move to
// another home and a new token. HomeService mounts its routes and shows it every answer it gives (`observe`), which
// is how the page learns of appends, refusals, slots and moves as they happen.
import { type HomeContext, userLogDir, waitingTails } from '../internal/home-context.js'
import { isUserName } from '../internal/user-names.js'
import { parseJson, parsePositionText, readBody } from '../internal/wire-codec.js'
import type { OperatorUiOptions } from '../operator-ui-options.js'
import type { Route, WireRequest, WireResponse } from '../wire.js'
import { ChangeSignal } from './change-signal.js'
import { DiskUsage } from './disk-usage.js'
import { eventStream } from './event-stream.js'
import { HomeFeed, type HomeFeedDeps, userRow } from './home-feed.js'
import { HomeFigures } from './home-figures.js'
import { uiError, uiJson } from './ui-http.js'
import { UiMoves } from './ui-moves.js'
import type { UiSession } from './ui-sessions.js'
import { type UiApiRoute, UiSite } from './ui-site.js'
import { UserData } from './user-data.js'
import { WriterActivity } from './writer-activity.js'

/** What the page asks of the home service. */
export interface HomeUiService {
  rotateToken(name: string): Promise<string>
  inFlight(): number
}

/** The place a page's live feed takes among the server's waiting tails (no user name has a colon). */
const FEED_PLACE = ':ui'
/** A user whose files are over this is not decoded by the page. */
const MAX_STATE_BYTES = 256 * 1024 * 1024

const TOUCHES = ['/v1/users/:user/slots/:slot', '/v1/admin/users', '/v1/admin/users/:user/token']

/** The operator page of one home. */
export class HomeUi {
  readonly routes: readonly Route[]
  private readonly site: UiSite
  private readonly changes = new ChangeSignal()
  private readonly writers: WriterActivity
  private readonly deps: HomeFeedDeps
  private readonly moves: UiMoves
  private readonly data: UserData

  constructor(
    private readonly ctx: HomeContext,
    private readonly service: HomeUiService,
    options: OperatorUiOptions,
  ) {
    const { clock, random } = ctx
    const figures = new HomeFigures(
      ctx.metrics,
      { openLogs: () => ctx.cache.openCount, users: () => ctx.meta.userCount, tails: () => waitingTails(ctx) },
      clock,
    )
    void figures.run(ctx.shutdown)
    const disk = new DiskUsage(ctx.fs, ctx.options.dataDir)
    this.writers = new WriterActivity(clock)
    this.moves = new UiMoves({
      clock,
      random,
      adminToken: ctx.options.adminToken,
      homing: () => ctx.homing,
      log: options.log,
      changed: () => this.changes.notify(),
    })
    this.deps = {
      ctx,
      disk,
      figures,
      writers: this.writers,
      moves: this.moves,
      maxListed: options.maxListedUsers ?? 500,
      inFlight: () => service.inFlight(),
    }
    this.data = new UserData(ctx, disk, MAX_STATE_BYTES)
    this.site = new UiSite({
      kind: 'home',
      adminToken: ctx.options.adminToken,
      clock,
      random,
      options,
      feed: (r, session) => this.feed(r, session),
      api: this.api(),
    })
    this.routes = this.site.routes()
  }

  /** Sees every answer the home gave: appends (the writers' view), slots, moves and users wake the feeds. */
  observe(route: Route, request: WireRequest, answer: WireResponse): void {
    if (route.method === 'POST' && route.path === '/v1/users/:user/append') this.append(request, answer)
    else if (route.method !== 'GET' && (TOUCHES.includes(route.path) || route.path.startsWith('/v1/admin/moves/'))) {
      this.changes.notify()
    }
  }

  private append(request: WireRequest, answer: WireResponse): void {
    const user = request.params.user
    if (user === undefined || this.ctx.meta.user(user) === undefined) return
    if (answer.status === 200) {
      let commits = 0
      try {
        const expected = parsePositionText(request.headers['homedb-position']).seq
        commits = Math.max(0, (this.ctx.heads.get(user)?.seq ?? expected) - expected)
      } catch {
        // an acknowledged append always carries a position; counted as none if not
      }
      this.writers.accepted(user, commits)
    } else if (answer.status !== 401 && answer.status !== 429) {
      // Refusals after auth (401 and rate limits may come from anyone naming the user).
      const body = answer.body instanceof Uint8Array ? parseJson(answer.body) : undefined
      const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code
      this.writers.refused(user, answer.status, typeof code === 'string' ? code : String(answer.status))
    }
    this.changes.notify()
  }

  private feed(request: WireRequest, session: UiSession): WireResponse {
    const leave = this.ctx.tails.enter(FEED_PLACE)
    if (leave === undefined) {
      return uiError(429, 'too-many-tails', 'no place for another live view: close one', { 'retry-after': '1' })
    }
    const { user, filter } = request.query
    const feed = new HomeFeed(
      this.deps,
      user !== undefined && user !== '' ? { user } : { text: (filter ?? '').slice(0, 64) },
    )
    const signal = AbortSignal.any([request.signal, this.ctx.shutdown])
    return eventStream({
      signal,
      clock: this.ctx.clock,
      intervalMs: 1000,
      minGapMs: 250,
      waitForChange: (ms, s) => this.changes.wait(this.ctx.clock, ms, s),
      next: async () =>
        this.site.sessions.live(session)
          ? { event: 'state', data: await feed.next() }
          : { event: 'end', data: { reason: 'the session ended' } },
      onEnd: leave,
    })
  }

  private api(): UiApiRoute[] {
    const user = (r: WireRequest) => r.params.user ?? ''
    return [
      { method: 'GET', path: 'users/:user', handler: async (r) => this.user(user(r)) },
      { method: 'GET', path: 'users/:user/tables', handler: (r) => this.data.tables(user(r), r.query) },
      { method: 'GET', path: 'users/:user/table', handler: (r) => this.data.table(user(r), r.query) },
      { method: 'GET', path: 'users/:user/commits', handler: (r) => this.data.commits(user(r), r.query) },
      { method: 'GET', path: 'homes', handler: () => this.homes() },
      { method: 'POST', path: 'users/:user/move', bodyLimit: 4096, handler: (r) => this.move(r) },
      { method: 'POST', path: 'users/:user/token', bodyLimit: 1024, handler: (r) => this.rotate(r) },
    ]
  }

  /** GET /ui/api/users/:user — the user's row and its log's position (the log is opened if it is served here). */
  private async user(name: string): Promise<WireResponse> {
    if (!isUserName(name)) return uiError(400, 'bad-user-name', 'not a valid user name')
    const record = this.ctx.meta.user(name)
    if (record === undefined) return uiError(404, 'no-user', 'no such user here')
    let log: { logId: string; start: number } | null = null
    const state = record.state ?? 'active'
    if (state === 'active' || state === 'frozen') {
      const lease = await this.ctx.cache.acquire(name, userLogDir(this.ctx, name, record.generation))
      if (lease !== undefined) {
        log = { logId: lease.log.logId, start: lease.log.start.seq }
        lease.release()
      }
    }
    await this.deps.disk.refresh([{ name, seq: this.ctx.heads.get(name)?.seq ?? null }], this.ctx.clock.now())
    return uiJson(200, { at: this.ctx.clock.now(), user: userRow(this.deps, name, record), log })
  }

  /** GET /ui/api/homes — the homes the directory names (where users can move), this one excluded. */
  private async homes(): Promise<WireResponse> {
    const homing = this.ctx.homing
    if (homing === undefined) return uiJson(200, { self: null, homes: [] })
    const entries = await homing.directory.list().catch(() => [])
    const homes = [...new Set(entries.map((e) => e.home))].filter((h) => h !== homing.url).sort()
    return uiJson(200, { self: homing.url ?? null, homes: homes.slice(0, 1000) })
  }

  /** POST /ui/api/users/:user/move `{ to }` — starts a move (202), or says why not. */
  private async move(request: WireRequest): Promise<WireResponse> {
    const name = request.params.user ?? ''
    if (!isUserName(name)) return uiError(400, 'bad-user-name', 'not a valid user name')
    const record = this.ctx.meta.user(name)
    if (record === undefined) return uiError(404, 'no-user', 'no such user here')
    if ((record.state ?? 'active') !== 'active') return uiError(409, 'conflict', 'only a user active here can move')
    const body = await readBody(request.body, 4096)
    const to = (parseJson(body ?? new Uint8Array()) as { to?: unknown } | undefined)?.to
    const started = this.moves.start(name, to, request.remote)
    if ('status' in started) return uiError(started.status, started.code, started.message)
    this.changes.notify()
    return uiJson(202, { move: started })
  }

  /** POST /ui/api/users/:user/token — a new token for the user, shown once; the old one is refused from now on. */
  private async rotate(request: WireRequest): Promise<WireResponse> {
    const name = request.params.user ?? ''
    if (!isUserName(name)) return uiError(400, 'bad-user-name', 'not a valid user name')
    if (this.ctx.meta.user(name) === undefined) return uiError(404, 'no-user', 'no such user here')
    const token = await this.service.rotateToken(name)
    this.site.log?.info({ action: 'rotate-token', user: name, remote: request.remote }, 'operator page: token rotated')
    this.changes.notify()
    return uiJson(200, { name, token })
  }
}
