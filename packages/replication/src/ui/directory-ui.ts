// The operator page of the embedded directory (`/ui`): every user with its home, homeEpoch and state, the homes
// with their user counts (each linking to that home's own page), and the moves in flight, live. Read-only: moves
// are started from a home's page. The feed wakes on every change of the directory.
import type { Clock } from '../clock.js'
import type { EmbeddedDirectory } from '../directory/embedded-directory.js'
import type { DirectoryEntry } from '../directory.js'
import type { OperatorUiOptions } from '../operator-ui-options.js'
import type { Random } from '../random.js'
import type { Route, WireRequest, WireResponse } from '../wire.js'
import { eventStream } from './event-stream.js'
import { RowDiff } from './row-diff.js'
import { uiError } from './ui-http.js'
import { UiSite } from './ui-site.js'

/** What the directory's page needs. */
export interface DirectoryUiOptions {
  readonly store: EmbeddedDirectory
  readonly adminToken: string | undefined
  readonly clock: Clock
  readonly random: Random
  /** Fires when the server closes (the feeds end). */
  readonly shutdown: AbortSignal
  readonly options: OperatorUiOptions
}

/** Live views at most at once. */
const MAX_FEEDS = 32

interface EntryRow {
  readonly name: string
  readonly home: string
  readonly epoch: number
  readonly state: DirectoryEntry['state']
  readonly move: DirectoryEntry['move'] | null
}

/** The next event of one page: users the filter matches (as changes), homes, moves. */
async function directoryEvent(
  o: DirectoryUiOptions,
  diff: RowDiff<EntryRow>,
  filter: string,
  maxListed: number,
): Promise<unknown> {
  const entries = await o.store.list()
  const homes = new Map<string, number>()
  const rows: EntryRow[] = []
  let matched = 0
  for (const e of entries) {
    homes.set(e.home, (homes.get(e.home) ?? 0) + 1)
    if (!e.user.includes(filter)) continue
    matched++
    if (rows.length < maxListed) {
      rows.push({ name: e.user, home: e.home, epoch: e.homeEpoch, state: e.state, move: e.move ?? null })
    }
  }
  const moves = entries
    .filter((e) => e.state === 'moving')
    .map((e) => ({
      user: e.user,
      from: e.home,
      to: e.move?.to ?? null,
      epoch: e.homeEpoch,
      startedAt: e.move?.startedAt ?? null,
    }))
  return {
    kind: 'directory',
    at: o.clock.now(),
    server: { users: entries.length, homes: homes.size, moving: moves.length, revision: o.store.revision },
    homes: [...homes].map(([url, users]) => ({ url, users })).sort((a, b) => (a.url < b.url ? -1 : 1)),
    moves,
    users: {
      ...diff.next(rows.sort((a, b) => (a.name < b.name ? -1 : 1))),
      total: entries.length,
      matched,
      limit: maxListed,
    },
  }
}

/** The directory's page routes. */
export function directoryUiRoutes(o: DirectoryUiOptions): Route[] {
  let feeds = 0
  const maxListed = o.options.maxListedUsers ?? 500
  const site: UiSite = new UiSite({
    kind: 'directory',
    adminToken: o.adminToken,
    clock: o.clock,
    random: o.random,
    options: o.options,
    api: [],
    feed(request: WireRequest, session): WireResponse {
      if (feeds >= MAX_FEEDS) {
        return uiError(429, 'too-many-tails', 'no place for another live view: close one', { 'retry-after': '1' })
      }
      feeds++
      const diff = new RowDiff<EntryRow>()
      const filter = (request.query.filter ?? '').slice(0, 64)
      return eventStream({
        signal: AbortSignal.any([request.signal, o.shutdown]),
        clock: o.clock,
        intervalMs: 1000,
        minGapMs: 250,
        waitForChange: (ms, signal) => o.store.waitForChange(ms, signal),
        next: async () =>
          site.sessions.live(session)
            ? { event: 'state', data: await directoryEvent(o, diff, filter, maxListed) }
            : { event: 'end', data: { reason: 'the session ended' } },
        onEnd: () => {
          feeds--
        },
      })
    },
  })
  return site.routes()
}
