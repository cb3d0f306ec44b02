// The operator page's routes common to a home and a directory: the page (or the login form), its files, login and
// logout, the live feed and the API, each behind the session. A login compares the posted admin token in constant
// time and is rate-limited per client address; an action (a POST) must come from this server's own page (its
// `Origin`) and carry the session's CSRF token. A user's token, or any bearer token, opens nothing here.
import type { Clock } from '../clock.js'
import { RateLimiter } from '../internal/rate-limit.js'
import { readBody } from '../internal/wire-codec.js'
import type { OperatorUiOptions, UiActionLog } from '../operator-ui-options.js'
import type { Random } from '../random.js'
import type { Route, WireRequest, WireResponse } from '../wire.js'
import { renderPage, serveAsset } from './ui-assets.js'
import { CSRF_HEADER, clearedCookie, cookieOf, sameOrigin, sessionCookie, uiError, uiRedirect } from './ui-http.js'
import { sameSecret, type UiSession, UiSessions } from './ui-sessions.js'

/** A route of the page's API: its handler gets the request's session. */
export interface UiApiRoute {
  readonly method: 'GET' | 'POST'
  /** Under `/ui/api/`. */
  readonly path: string
  /** Largest body of a POST. Default 8 KiB. */
  readonly bodyLimit?: number
  handler(request: WireRequest, session: UiSession): Promise<WireResponse>
}

/** What a {@link UiSite} serves. */
export interface UiSiteOptions {
  readonly kind: 'home' | 'directory'
  readonly adminToken: string | undefined
  readonly clock: Clock
  readonly random: Random
  readonly options: OperatorUiOptions
  /** The live feed (`GET /ui/events`) of a logged-in page. */
  feed(request: WireRequest, session: UiSession): WireResponse
  readonly api: readonly UiApiRoute[]
}

/** Failed logins per client address: a burst of 10, then one a second; past it, logins wait. */
const LOGIN_RATE = { perSecond: 1, burst: 10 } as const
/** Client addresses remembered as waiting at most. */
const MAX_BLOCKED = 10_000

/** The page of one server. */
export class UiSite {
  readonly sessions: UiSessions
  /** Name of this server's session cookie (distinct per server: cookies do not tell ports apart). */
  readonly cookie: string
  readonly log: UiActionLog | undefined
  private readonly failures: RateLimiter
  /** Client addresses whose failed logins ran out, and until when they wait (the server's clock). */
  private readonly blocked = new Map<string, number>()

  constructor(private readonly site: UiSiteOptions) {
    const o = site.options
    this.sessions = new UiSessions(site.clock, site.random, o.sessionTtlMs ?? 8 * 3600_000, o.maxSessions ?? 64)
    this.cookie = `homedb_ui_${Buffer.from(site.random.bytes(6)).toString('hex')}`
    this.log = o.log
    this.failures = new RateLimiter(LOGIN_RATE, site.clock, MAX_BLOCKED)
  }

  /** The session a request's cookie names, if it is live. */
  session(request: WireRequest): UiSession | undefined {
    return this.sessions.get(cookieOf(request, this.cookie))
  }

  /** Every route of the page. */
  routes(): Route[] {
    const routes: Route[] = [
      { method: 'GET', path: '/ui', handler: (r) => this.page(r) },
      { method: 'GET', path: '/ui/assets/:name', handler: (r) => serveAsset(r) },
      { method: 'POST', path: '/ui/login', bodyLimit: 4096, handler: (r) => this.login(r) },
      { method: 'POST', path: '/ui/logout', bodyLimit: 4096, handler: (r) => this.logout(r) },
      {
        method: 'GET',
        path: '/ui/events',
        handler: async (r) => {
          const session = this.session(r)
          return session === undefined ? uiError(401, 'unauthorized', 'log in first') : this.site.feed(r, session)
        },
      },
    ]
    for (const api of this.site.api) {
      routes.push({
        method: api.method,
        path: `/ui/api/${api.path}`,
        bodyLimit: api.bodyLimit ?? 8192,
        handler: (r) => this.guarded(api, r),
      })
    }
    return routes
  }

  private async page(request: WireRequest): Promise<WireResponse> {
    const session = this.session(request)
    if (session !== undefined) return renderPage('index.html', { csrf: session.csrf, kind: this.site.kind })
    return this.loginPage(200, '')
  }

  private loginPage(status: number, message: string, headers: Record<string, string> = {}): Promise<WireResponse> {
    const off =
      this.site.adminToken === undefined
        ? 'This server has no admin token, so the operator page is off: start it with --admin-token (or HOMEDB_ADMIN_TOKEN).'
        : ''
    return renderPage('login.html', { message: off || message, kind: this.site.kind }, status, headers)
  }

  private async login(request: WireRequest): Promise<WireResponse> {
    const remote = request.remote
    if (!sameOrigin(request)) return this.loginPage(403, 'Refused: the form was not sent from this server\u2019s page.')
    const key = `a:${remote ?? 'unknown'}`
    const wait = (this.blocked.get(key) ?? 0) - this.site.clock.now()
    if (wait > 0) {
      this.log?.warn({ action: 'login', remote, outcome: 'rate-limited' }, 'operator page: login refused')
      const seconds = Math.max(1, Math.ceil(wait / 1000))
      return this.loginPage(429, `Too many wrong tokens: wait ${seconds} s.`, { 'retry-after': String(seconds) })
    }
    const body = await readBody(request.body, 4096)
    const token = body === undefined ? undefined : new URLSearchParams(body.toString('utf8')).get('token')
    const admin = this.site.adminToken
    if (admin === undefined || token === null || token === undefined || !sameSecret(token, admin)) {
      this.failed(key)
      this.log?.warn({ action: 'login', remote, outcome: 'wrong-token' }, 'operator page: login refused')
      return this.loginPage(401, 'Wrong token: the page needs this server\u2019s admin token.')
    }
    const { id } = this.sessions.create(remote)
    this.log?.info({ action: 'login', remote, outcome: 'ok' }, 'operator page: login')
    return uiRedirect('/ui', { 'set-cookie': sessionCookie(request, this.cookie, id, this.sessions.ttlSeconds) })
  }

  /** Counts a failed login; once an address's failures run out, its next logins wait. */
  private failed(key: string): void {
    const wait = this.failures.take(key)
    if (wait === 0) return
    this.blocked.delete(key)
    this.blocked.set(key, this.site.clock.now() + wait)
    if (this.blocked.size > MAX_BLOCKED) this.blocked.delete(this.blocked.keys().next().value!)
  }

  private async logout(request: WireRequest): Promise<WireResponse> {
    const session = this.session(request)
    const body = await readBody(request.body, 4096)
    const csrf = request.headers[CSRF_HEADER] ?? new URLSearchParams(body?.toString('utf8') ?? '').get('csrf') ?? ''
    if (session === undefined) return uiRedirect('/ui', { 'set-cookie': clearedCookie(request, this.cookie) })
    if (!sameOrigin(request) || !sameSecret(csrf, session.csrf)) {
      return uiError(403, 'forbidden', 'a logout must come from this server\u2019s page')
    }
    this.sessions.end(cookieOf(request, this.cookie))
    this.log?.info({ action: 'logout', remote: request.remote }, 'operator page: logout')
    return uiRedirect('/ui', { 'set-cookie': clearedCookie(request, this.cookie) })
  }

  /** Runs an API route once the session (and for a POST, the origin and the CSRF token) check out. */
  private async guarded(api: UiApiRoute, request: WireRequest): Promise<WireResponse> {
    const session = this.session(request)
    if (session === undefined) return uiError(401, 'unauthorized', 'log in first')
    if (api.method === 'POST') {
      if (!sameOrigin(request)) return uiError(403, 'forbidden', 'an action must come from this server\u2019s page')
      if (!sameSecret(request.headers[CSRF_HEADER] ?? '', session.csrf)) {
        return uiError(403, 'forbidden', 'the action lacks this session\u2019s CSRF token')
      }
    }
    return api.handler(request, session)
  }
}
