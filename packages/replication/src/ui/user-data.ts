// One user's data for the operator page (admin only): the tables as they stand at the durable head, decoded
// without the app's schema (`readLogState`), a page of entries at a time, and the last commits with their
// operations (`decodeCommitOps`). Rebuilding a user's tables costs memory of their size, so it is bounded: a user
// whose files are over `maxStateBytes` is refused, one rebuild runs at a time, and the two most recent are kept
// (paging through a table reads the same rebuild). Values are previews of bounded length.
import type { Log } from '@homedb/log'
import { decodeCommitOps, type LogState, readLogState } from '@homedb/tables'
import { durableOf, type HomeContext, userLogDir } from '../internal/home-context.js'
import { isUserName } from '../internal/user-names.js'
import { stateOf } from '../internal/user-transitions.js'
import type { WireResponse } from '../wire.js'
import type { DiskUsage } from './disk-usage.js'
import { uiError, uiJson } from './ui-http.js'
import { preview } from './value-preview.js'

/** Entries per page: default and most. */
const PAGE = { default: 50, max: 200 } as const
/** Commits listed: default and most; operations shown per commit. */
const COMMITS = { default: 20, max: 100, ops: 50, chars: 400 } as const
/** Rebuilt states kept. */
const KEPT_STATES = 2

interface Built {
  readonly user: string
  readonly logId: string
  readonly seq: number
  readonly state: Promise<LogState>
}

/** A query number: an integer in `[min, max]`, `fallback` when absent; undefined when malformed. */
export function queryInt(text: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (text === undefined || text === '') return fallback
  if (!/^\d{1,15}$/.test(text)) return undefined
  const n = Number(text)
  return n < min || n > max ? undefined : n
}

/** Reads users' logs for the page. */
export class UserData {
  private built: Built[] = []
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly ctx: HomeContext,
    private readonly disk: DiskUsage,
    private readonly maxStateBytes: number,
  ) {}

  /** GET /ui/api/users/:user/tables?seq= — the tables at `seq` (default the durable head): names, kinds, sizes. */
  tables(user: string, query: Readonly<Record<string, string>>): Promise<WireResponse> {
    return this.withState(user, query.seq, (state, logId) =>
      uiJson(200, {
        user,
        logId,
        seq: state.seq,
        chain: state.chain,
        tables: state.tables.map((t) => ({ name: t.name, kind: t.kind, size: t.size })),
      }),
    )
  }

  /** GET /ui/api/users/:user/table?name=&offset=&limit=&seq= — one page of a table's entries. */
  table(user: string, query: Readonly<Record<string, string>>): Promise<WireResponse> {
    const offset = queryInt(query.offset, 0, 0, Number.MAX_SAFE_INTEGER)
    const limit = queryInt(query.limit, PAGE.default, 1, PAGE.max)
    const name = query.name
    if (offset === undefined || limit === undefined || name === undefined || name.length > 1024) {
      return Promise.resolve(uiError(400, 'bad-request', `name, offset ≥ 0 and limit 1 to ${PAGE.max} are needed`))
    }
    return this.withState(user, query.seq, (state, logId) => {
      const table = state.tables.find((t) => t.name === name)
      if (table === undefined) return uiError(404, 'not-found', 'the log names no such table')
      const entries = table.entries({ offset, limit }).map((e) => ({
        key: e.key === undefined ? null : preview(e.key, 200),
        value: preview(e.value),
      }))
      const { kind, size } = table
      return uiJson(200, { user, logId, seq: state.seq, name, kind, size, offset, limit, entries })
    })
  }

  /** GET /ui/api/users/:user/commits?limit= — the last commits up to the durable head, newest first. */
  async commits(user: string, query: Readonly<Record<string, string>>): Promise<WireResponse> {
    const limit = queryInt(query.limit, COMMITS.default, 1, COMMITS.max)
    if (limit === undefined) return uiError(400, 'bad-request', `limit must be 1 to ${COMMITS.max}`)
    return this.withLog(user, async (log) => {
      const head = durableOf(this.ctx, log)
      const from = Math.max(log.start.seq, head.seq - limit)
      const commits = []
      for await (const commit of log.read({ from })) {
        if (commit.seq > head.seq) break
        commits.push({ seq: commit.seq, chain: commit.chain, bytes: commit.payload.byteLength, ...describe(commit) })
      }
      commits.reverse()
      return uiJson(200, { user, logId: log.logId, head, start: log.start.seq, commits })
    })
  }

  /** Runs `fn` with the user's log pinned; refuses users not served here and users without a log. */
  private async withLog(user: string, fn: (log: Log) => Promise<WireResponse>): Promise<WireResponse> {
    if (!isUserName(user)) return uiError(400, 'bad-user-name', 'not a valid user name')
    const record = this.ctx.meta.user(user)
    if (record === undefined) return uiError(404, 'no-user', 'no such user here')
    const state = stateOf(record)
    if (state !== 'active' && state !== 'frozen') {
      return uiError(409, 'conflict', `this user is ${state} here: read its data where it lives`)
    }
    const lease = await this.ctx.cache.acquire(user, userLogDir(this.ctx, user, record.generation))
    if (lease === undefined) return uiError(409, 'no-log', 'no writer shipped anything for this user yet')
    try {
      return await fn(lease.log)
    } finally {
      lease.release()
    }
  }

  /** Runs `fn` with the user's tables at `seqText` (default the durable head), rebuilt or kept. */
  private withState(
    user: string,
    seqText: string | undefined,
    fn: (state: LogState, logId: string) => WireResponse,
  ): Promise<WireResponse> {
    return this.withLog(user, async (log) => {
      const durable = durableOf(this.ctx, log).seq
      const seq = queryInt(seqText, durable, log.start.seq, durable)
      if (seq === undefined) return uiError(400, 'bad-request', `seq must be ${log.start.seq} to ${durable}`)
      let built = this.built.find((b) => b.user === user && b.logId === log.logId && b.seq === seq)
      if (built === undefined) {
        const bytes = await this.disk.measure(user)
        if (bytes > this.maxStateBytes) {
          return uiError(413, 'too-large', `this user's files (${bytes} bytes) are over what the page reads`)
        }
        built = { user, logId: log.logId, seq, state: this.build(log, seq) }
        this.built = [built, ...this.built.filter((b) => b.user !== user)].slice(0, KEPT_STATES)
      }
      let state: LogState
      try {
        state = await built.state
      } catch (error) {
        this.built = this.built.filter((b) => b !== built)
        return uiError(409, 'conflict', `the log does not read as tables: ${(error as Error).message}`)
      }
      return fn(state, log.logId)
    })
  }

  /** Rebuilds one state at a time (the memory of two at most: the one kept and the one built). */
  private build(log: Log, seq: number): Promise<LogState> {
    const next = this.queue.then(() => readLogState(log, { upTo: seq }))
    this.queue = next.catch(() => undefined)
    return next
  }
}

/** A commit's operations as the page lists them (the first 50, previews of bounded length). */
function describe(commit: { readonly payload: Uint8Array }): { ops: unknown[]; moreOps: number } | { error: string } {
  try {
    const ops = decodeCommitOps(commit.payload)
    const shown = ops.slice(0, COMMITS.ops).map((op) => {
      const out: Record<string, unknown> = { table: op.table, kind: op.kind, op: op.op }
      for (const field of ['key', 'key2', 'member', 'index'] as const) {
        if (op[field] !== undefined) out[field] = preview(op[field], 200)
      }
      if ('value' in op) out.value = preview(op.value, COMMITS.chars)
      return out
    })
    return { ops: shown, moreOps: ops.length - shown.length }
  } catch (error) {
    return { error: (error as Error).message }
  }
}
