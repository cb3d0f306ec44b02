// Workload (issues 6 and 7): the cost of change notification. Single-row commits on one table with 0, 1 and 100
// `changes()` subscribers, against plain @homedb/tables without @homedb/reactive, and TinyBase with row listeners.
import { type SmallRecord, smallRecords } from '../records.js'
import { defineWorkload, opsPerSec, type SystemRun } from '../workload.js'
import { RowsSchema } from './support/homedb.js'

type ReactiveParams = {
  /** Single-row commits per run (each a new key). */
  readonly commits: number
}

let records: SmallRecord[] | undefined

function recordsFor(p: ReactiveParams): SmallRecord[] {
  records ??= smallRecords(p.commits)
  return records
}

/** Plain tables: no reactive import, no listener. */
const tablesPlain: SystemRun<ReactiveParams> = async (p) => {
  const { openDb } = await import('@homedb/tables')
  const rs = recordsFor(p)
  const db = await openDb(RowsSchema, { durability: 'memory', autoCompact: false })
  const start = performance.now()
  for (const r of rs) db.rows.insert(r.id, r)
  const elapsed = performance.now() - start
  await db.close()
  return opsPerSec(rs.length, elapsed)
}

/** `subscribers` subscriptions to `changes(db.rows)`, each counting the changes it receives. */
function reactive(subscribers: number): SystemRun<ReactiveParams> {
  return async (p) => {
    const { openDb } = await import('@homedb/tables')
    const { changes } = await import('@homedb/reactive')
    const rs = recordsFor(p)
    const db = await openDb(RowsSchema, { durability: 'memory', autoCompact: false })
    // One subscribe/unsubscribe cycle first: unsubscribing must leave nothing behind for the 0-subscriber case.
    changes(db.rows)
      .subscribe(() => {})
      .unsubscribe()
    const stream = changes(db.rows)
    let seen = 0
    const subs = Array.from({ length: subscribers }, () =>
      stream.subscribe((event) => {
        seen += event.changes.length
      }),
    )
    const start = performance.now()
    for (const r of rs) db.rows.insert(r.id, r)
    const elapsed = performance.now() - start
    for (const s of subs) s.unsubscribe()
    await db.close()
    if (seen !== subscribers * rs.length)
      throw new Error(`subscribers saw ${seen} changes, expected ${subscribers * rs.length}`)
    return opsPerSec(rs.length, elapsed)
  }
}

/** TinyBase: one `setRow` per commit with `listeners` row listeners on the table. */
function tinybase(listeners: number): SystemRun<ReactiveParams> {
  return async (p) => {
    const { createStore } = await import('tinybase')
    const rs = recordsFor(p)
    const store = createStore()
    let seen = 0
    for (let l = 0; l < listeners; l++) store.addRowListener('rows', null, () => void seen++)
    const start = performance.now()
    for (const r of rs) store.setRow('rows', r.id, r as unknown as Record<string, string | number | boolean>)
    const elapsed = performance.now() - start
    if (seen !== listeners * rs.length) throw new Error(`listeners saw ${seen} rows, expected ${listeners * rs.length}`)
    return opsPerSec(rs.length, elapsed)
  }
}

/** Reactive notification cost. */
export const reactiveWorkload = defineWorkload<ReactiveParams>({
  name: 'reactive',
  title: 'Commit throughput with 0, 1 and 100 change subscribers',
  description:
    'Each run commits N single-row inserts (each a new key, each its own commit) into one table held in memory ' +
    "(`durability: 'memory'`, so the figure is the in-memory commit and notification path, not I/O; automatic " +
    'compaction off in every homedb system, so none starts in the middle of a run). ' +
    '`tables-plain`: `@homedb/tables` alone, nobody listening. `reactive-<n>`: the same with `@homedb/reactive` ' +
    'loaded and `n` subscriptions to `changes(db.rows)` (after one subscribe/unsubscribe cycle), each counting ' +
    'the changes it receives (checked at the end). `tinybase-<n>`: TinyBase `setRow` per commit with `n` ' +
    '`addRowListener` listeners on the table. The cost ratios divide the plain figure by the subscribed one ' +
    '(1.0 = free, 1.5 = 50 % more time per commit).',
  unit: 'opsPerSec',
  params: (quick) => ({ commits: quick ? 20_000 : 200_000 }),
  capMs: (quick) => (quick ? 20_000 : 60_000),
  repeats: 5,
  systems: {
    'tables-plain': tablesPlain,
    'reactive-0': reactive(0),
    'reactive-1': reactive(1),
    'reactive-100': reactive(100),
    'tinybase-0': tinybase(0),
    'tinybase-1': tinybase(1),
    'tinybase-100': tinybase(100),
  },
  ratios: {
    'reactive cost 0 subscribers': { of: 'tables-plain', to: 'reactive-0' },
    'reactive cost 1 subscriber': { of: 'tables-plain', to: 'reactive-1' },
    'reactive cost 100 subscribers': { of: 'tables-plain', to: 'reactive-100' },
    'reactive tinybase cost 1 listener': { of: 'tinybase-0', to: 'tinybase-1' },
    'reactive tinybase cost 100 listeners': { of: 'tinybase-0', to: 'tinybase-100' },
    'reactive homedb/tinybase 1 subscriber': { of: 'reactive-1', to: 'tinybase-1' },
    'reactive homedb/tinybase 100 subscribers': { of: 'reactive-100', to: 'tinybase-100' },
  },
  goals: {
    'reactive 0 subscribers ≤ 1.05×': {
      text: 'commit cost with @homedb/reactive loaded and 0 subscribers ≤ 1.05× plain tables',
      source: 'issue 6',
      ratio: 'reactive cost 0 subscribers',
      atMost: 1.05,
      whenMissed:
        'with no subscriber @homedb/reactive has no listener on the db (a stream attaches on its first ' +
        'subscription and detaches on its last), so a commit runs the same code as without it; a difference ' +
        'of a few percent is within the spread of these runs',
    },
    'reactive 1 subscriber ≤ 1.5×': {
      text: 'commit cost with 1 `changes()` subscriber ≤ 1.5× plain tables',
      source: 'issue 6',
      ratio: 'reactive cost 1 subscriber',
      atMost: 1.5,
    },
  },
})
