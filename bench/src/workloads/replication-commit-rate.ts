// Workload (issue 15, moved from the tests by the lead): the writer's commit rate with the home up, with it down
// (unreachable: the shipper queues and retries), and with no shipper at all — commits never wait on the network.
import { join } from 'node:path'
import { lookupTable, schema } from '@homedb/tables'
import { defineWorkload, opsPerSec, type SystemRun } from '../workload.js'
import { startBenchHome } from './support/home.js'
import { concurrentCommits } from './support/measure.js'

type RateParams = { readonly writers: number; readonly durationMs: number }

const RateSchema = schema({ rows: lookupTable<number, { n: number }>() })

function rate(mode: 'none' | 'up' | 'down'): SystemRun<RateParams> {
  return async (p, ctx) => {
    const { openDb } = await import('@homedb/tables')
    const { ship } = await import('@homedb/replication')
    const db = await openDb(RateSchema, { dir: join(ctx.tmpDir(), 'writer'), autoCompact: false })
    const home = mode === 'up' ? await startBenchHome(join(ctx.tmpDir(), 'home')) : undefined
    try {
      const token = home === undefined ? 'unused-token' : await home.addUser('bench')
      // Port 9 on loopback: nothing listens, every connection is refused at once (the home is down).
      const url = home?.url ?? 'http://127.0.0.1:9'
      const shipper = mode === 'none' ? undefined : ship(db, { home: url, user: 'bench', token })
      const ms = ctx.warmup ? p.durationMs / 3 : p.durationMs
      const { commits, elapsedMs } = await concurrentCommits(p.writers, ms, (k) =>
        db.transaction(() => db.rows.insert(k, { n: k })),
      )
      const lag = shipper?.status.lagCommits ?? 0
      await shipper?.close()
      await db.close()
      return opsPerSec(commits, elapsedMs, { unshippedAtEnd: lag })
    } finally {
      await home?.stop()
    }
  }
}

/** Commit rate with the home up, down and absent. */
export const replicationCommitRate = defineWorkload<RateParams>({
  name: 'replication-commit-rate',
  title: 'Writer commit rate with the home up, with the home down, and without shipping',
  description:
    '`writers` concurrent loops each commit one row and await its durability (`durability: fsync`) for the run. ' +
    '`home-up`: a shipper sends the commits to a home server in its own process as they become durable. ' +
    '`home-down`: the shipper\u2019s home refuses every connection (nothing listens), so it backs off and retries ' +
    'while the commits queue in the local log (`unshippedAtEnd`). `no-shipper`: the db alone.',
  unit: 'opsPerSec',
  params: (quick) => ({ writers: 16, durationMs: quick ? 2_000 : 5_000 }),
  capMs: (quick) => (quick ? 60_000 : 120_000),
  repeats: 3,
  systems: { 'no-shipper': rate('none'), 'home-up': rate('up'), 'home-down': rate('down') },
  ratios: {
    'home-down : home-up': { of: 'home-down', to: 'home-up' },
    'home-up : no-shipper': { of: 'home-up', to: 'no-shipper' },
  },
  goals: {
    'replication-commit-rate-down': {
      text: 'commit rate with the home down within 10% of the rate with it up',
      source: 'issue 15',
      ratio: 'home-down : home-up',
      atLeast: 0.9,
    },
  },
  notes:
    'Commits never wait on the network: the shipper reads durable commits from the log on its own schedule. With ' +
    'the home up, shipping shares the process (reading frames, HTTP) and the disk (the home\u2019s fdatasyncs) with ' +
    'the writer, which is what the ratio to `no-shipper` shows.',
})
