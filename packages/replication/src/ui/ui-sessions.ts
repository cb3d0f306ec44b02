// Logins to the operator page: a session is created when the admin token is posted to the login form and lives in
// memory only (a restart logs everyone out). Its id (32 random bytes) travels in an HttpOnly, SameSite=Strict
// cookie; its CSRF token (another 32) is given to the page and must come back with every action. Sessions expire,
// are bounded in number (a new one past the bound ends the oldest), and are looked up by a digest of the id, so
// nothing the server compares is the secret itself.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Random } from '../random.js'

/** One login. */
export interface UiSession {
  /** The secret the page must send back with every action (`homedb-csrf` header or `csrf` form field). */
  readonly csrf: string
  /** When it ends (the server's clock, ms). */
  readonly expires: number
  /** The client address it was created from (for the audit log). */
  readonly remote: string | undefined
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url')
}

/** Constant-time equality of two secrets of any length (their digests are compared). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

/** The logins of one server. */
export class UiSessions {
  /** By digest of the session id, oldest first. */
  private readonly sessions = new Map<string, UiSession>()

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  /** A new session; its id goes to the cookie, never anywhere else. */
  create(remote: string | undefined): { readonly id: string; readonly session: UiSession } {
    this.sweep()
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!)
    const id = Buffer.from(this.random.bytes(32)).toString('base64url')
    const session = {
      csrf: Buffer.from(this.random.bytes(32)).toString('base64url'),
      expires: this.clock.now() + this.ttlMs,
      remote,
    }
    this.sessions.set(digest(id), session)
    return { id, session }
  }

  /** The live session a cookie names, or undefined (unknown, ended or expired). */
  get(id: string | undefined): UiSession | undefined {
    if (id === undefined || id === '' || id.length > 256) return undefined
    const key = digest(id)
    const session = this.sessions.get(key)
    if (session === undefined) return undefined
    if (session.expires <= this.clock.now()) {
      this.sessions.delete(key)
      return undefined
    }
    return session
  }

  /** Whether `session` is still live (a stream checks it at every event). */
  live(session: UiSession): boolean {
    if (session.expires <= this.clock.now()) return false
    for (const s of this.sessions.values()) if (s === session) return true
    return false
  }

  /** Ends the session a cookie names (logout). */
  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(digest(id))
  }

  /** Sessions live now. */
  get size(): number {
    this.sweep()
    return this.sessions.size
  }

  /** Whole seconds a new session lasts (the cookie's Max-Age). */
  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000)
  }

  private sweep(): void {
    const now = this.clock.now()
    for (const [key, s] of this.sessions) if (s.expires <= now) this.sessions.delete(key)
  }
}
