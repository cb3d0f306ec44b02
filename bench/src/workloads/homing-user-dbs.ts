// Workload (issue 17): the memory and open files of an app holding many users' dbs through openUserDbs: every user
// has been opened once (written to, shipped, closed when idle or evicted), then a smaller set stays active, writing.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { lookupTable, schema } from '@homedb/tables'
import { defineWorkload, type SystemRun } from '../workload.js'
import { startDeployment } from './support/deployment.js'
import { ADMIN } from './support/home.js'
import { fullGc } from './support/measure.js'

type UserDbsParams = {
  /** Users the app has held. */
  readonly users: number
  /** Users writing at the end (the measured state). */
  readonly active: number
  /** How long the active users write before the measurement, ms. */
  readonly activeMs: number
}

const Notes = schema({ notes: lookupTable<string, { text: string }>() })
const tokenOf = (user: string) => `${user}-homedb-bench-token`

async function register(url: string, users: readonly string[]): Promise<void> {
  let i = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < users.length) {
        const name = users[i++]!
        const answer = await fetch(`${url}/v1/admin/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name, token: tokenOf(name) }),
        })
        if (answer.status !== 201) throw new Error(`adding ${name}: ${answer.status}`)
      }
    }),
  )
}

const app: SystemRun<UserDbsParams> = async (p, ctx) => {
  const { openUserDbs } = await import('@homedb/replication')
  const count = ctx.warmup ? Math.min(p.users, 200) : p.users
  const deployment = await startDeployment(ctx.tmpDir(), 1)
  const users = Array.from({ length: count }, (_, i) => `u${i}`)
  try {
    await register(deployment.homes[0]!.url, users)
    const pool = openUserDbs(Notes, {
      dir: join(ctx.tmpDir(), 'app'),
      directory: deployment.directory.url,
      credentials: tokenOf,
      idleMs: 1_000,
    })
    let k = 0
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (k < users.length) {
          const user = users[k++]!
          await pool.use(user, (db) => db.notes.insert('hello', { text: user }))
        }
      }),
    )
    const active = users.slice(0, p.active)
    const end = performance.now() + p.activeMs
    let writes = 0
    while (performance.now() < end) {
      await Promise.all(active.map((u) => pool.use(u, (db) => db.notes.insert(`n${writes++ % 100}`, { text: u }))))
      await new Promise((r) => setTimeout(r, 10))
    }
    fullGc()
    const rss = process.memoryUsage().rss
    const fds = readdirSync('/proc/self/fd').length
    const status = pool.status()
    const report = await pool.close()
    return {
      value: rss,
      metrics: {
        fds,
        openDbs: status.open,
        pending: status.pending.length,
        users: count,
        undelivered: report.undelivered.length,
      },
    }
  } finally {
    await deployment.stop()
  }
}

/** RSS and open files of an app that held `users` users with `active` of them writing. */
export const homingUserDbs = defineWorkload<UserDbsParams>({
  name: 'homing-user-dbs',
  title: 'An app holding many users\u2019 dbs (openUserDbs): memory and open files',
  description:
    'One app process (the bench child) with one `openUserDbs` pool (default `maxOpen` 256, `idleMs` 1 s here) ' +
    'shipping to one home through an embedded directory (each in its own process). Every one of `users` users is ' +
    'opened once (a fresh db, one commit, shipped), then `active` users keep committing for `activeMs`; the figure ' +
    'is the app\u2019s RSS after a full GC at that point, with its open file descriptors (`/proc/self/fd`) and open dbs.',
  unit: 'rssBytes',
  params: (quick) => ({ users: quick ? 1_000 : 10_000, active: quick ? 10 : 100, activeMs: 3_000 }),
  capMs: (quick) => (quick ? 180_000 : 1_200_000),
  repeats: 1,
  systems: { 'open-user-dbs': app },
  notes:
    'Open dbs are bounded by `maxOpen` (least recently used closed first; idle ones close once their home has ' +
    'every commit), so memory and descriptors follow the active users, not the users held. Each open db holds its ' +
    'state in memory and about two descriptors (segment and lock); the shippers share one keep-alive transport.',
})
