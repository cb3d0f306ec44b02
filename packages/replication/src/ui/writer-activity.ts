// The writer of each user as its home sees it: when an append was last acknowledged, how many commits and appends
// arrived over about the last minute, and whether the last attempt was refused (and with which code). The home sees
// only what reaches it: a writer that is offline, or commits without reaching the home, looks the same as one that
// does not commit; its backlog is known only to the writer (`shipper.status.lagCommits`). Kept since the server
// started, one small record per user that appended.
import type { Clock } from '../clock.js'

/** Appends are counted in two windows of this length (the current one and the one before). */
const WINDOW_MS = 30_000
/** An append acknowledged this recently makes the writer `shipping`, an older one `idle`. */
export const SHIPPING_MS = 10_000

/** What the page shows of a user's writer. */
export interface WriterView {
  /**
   * `shipping` (an append was acknowledged in the last 10 s), `idle` (not since), `refused` (the last attempt got
   * a refusal, `lastRefusal` says which), `none` (no append since the server started).
   */
  readonly state: 'shipping' | 'idle' | 'refused' | 'none'
  /** Last acknowledged append (the server's clock, ms). */
  readonly lastAppendAt: number | null
  /** Commits per second and appends per second over about the last minute. */
  readonly commitsPerSec: number
  readonly appendsPerSec: number
  /** The last refused append: status, wire code and when. */
  readonly lastRefusal: { readonly status: number; readonly code: string; readonly at: number } | null
}

interface WriterRecord {
  readonly firstAt: number
  lastAppendAt: number | null
  lastAttemptAt: number
  lastRefusal: { status: number; code: string; at: number } | null
  windowStart: number
  appends: number
  commits: number
  previousAppends: number
  previousCommits: number
}

/** The writers of one home. */
export class WriterActivity {
  private readonly records = new Map<string, WriterRecord>()

  constructor(private readonly clock: Clock) {}

  /** An append acknowledged with `commits` new commits. */
  accepted(user: string, commits: number): void {
    const r = this.record(user)
    r.lastAppendAt = r.lastAttemptAt
    r.lastRefusal = null
    r.appends++
    r.commits += commits
  }

  /** An append refused with `status` and wire `code`. */
  refused(user: string, status: number, code: string): void {
    const r = this.record(user)
    r.lastRefusal = { status, code, at: r.lastAttemptAt }
  }

  /** The view of `user`'s writer. */
  view(user: string): WriterView {
    const r = this.records.get(user)
    if (r === undefined) {
      return { state: 'none', lastAppendAt: null, commitsPerSec: 0, appendsPerSec: 0, lastRefusal: null }
    }
    const now = this.clock.now()
    this.roll(r, now)
    const seconds = Math.max(1, Math.min(now - r.firstAt, WINDOW_MS + now - r.windowStart) / 1000)
    const recent = r.lastAppendAt !== null && now - r.lastAppendAt <= SHIPPING_MS
    return {
      state: r.lastRefusal !== null ? 'refused' : recent ? 'shipping' : r.lastAppendAt === null ? 'none' : 'idle',
      lastAppendAt: r.lastAppendAt,
      commitsPerSec: (r.previousCommits + r.commits) / seconds,
      appendsPerSec: (r.previousAppends + r.appends) / seconds,
      lastRefusal: r.lastRefusal,
    }
  }

  private record(user: string): WriterRecord {
    const now = this.clock.now()
    let r = this.records.get(user)
    if (r === undefined) {
      r = {
        firstAt: now,
        lastAppendAt: null,
        lastAttemptAt: now,
        lastRefusal: null,
        windowStart: now,
        appends: 0,
        commits: 0,
        previousAppends: 0,
        previousCommits: 0,
      }
      this.records.set(user, r)
    }
    this.roll(r, now)
    r.lastAttemptAt = now
    return r
  }

  /** Moves to a new window once the current one is over (two windows over: both start from zero). */
  private roll(r: WriterRecord, now: number): void {
    if (now - r.windowStart < WINDOW_MS) return
    const twoOver = now - r.windowStart >= 2 * WINDOW_MS
    r.previousAppends = twoOver ? 0 : r.appends
    r.previousCommits = twoOver ? 0 : r.commits
    r.appends = 0
    r.commits = 0
    r.windowStart = now - ((now - r.windowStart) % WINDOW_MS)
  }
}
