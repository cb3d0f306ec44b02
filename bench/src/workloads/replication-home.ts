// Workload (issue 15): a home server's acknowledged appends per second with many users appending at once, beside a
// central store (better-sqlite3, synchronous FULL, one row per commit): the architecture the seed moved away from.
import { join } from 'node:path'
import { defineWorkload, opsPerSec, type SystemRun } from '../workload.js'
import { startBenchHome } from './support/home.js'
import { openSqlite } from './support/sqlite.js'

type HomeParams = {
  readonly users: number
  readonly durationMs: number
}

/** Each user appends one commit at a time (awaiting the ack) for the run; all users at once. */
const home =
  (threads: number | undefined): SystemRun<HomeParams> =>
  async (p, ctx) => {
    const { openLog } = await import('@homedb/log')
    const { httpTransport } = await import('@homedb/replication')
    const env = threads === undefined ? {} : { UV_THREADPOOL_SIZE: String(threads) }
    const server = await startBenchHome(join(ctx.tmpDir(), 'home'), ['--max-open-logs', String(p.users + 16)], env)
    const transport = httpTransport({ maxSockets: p.users })
    try {
      const users = Array.from({ length: p.users }, (_, i) => `user-${i}`)
      const tokens: string[] = []
      for (const name of users) tokens.push(await server.addUser(name))
      const ms = ctx.warmup ? p.durationMs / 3 : p.durationMs
      const payload = new Uint8Array(100).fill(7)
      let acks = 0
      const start = performance.now()
      const deadline = start + ms
      await Promise.all(
        users.map(async (name, i) => {
          const log = await openLog(undefined, { durability: 'memory' })
          while (performance.now() < deadline) {
            const before = `${log.logId}:${log.head.seq}:${log.head.chain}`
            const seq = log.append(payload)
            let frame: Uint8Array | undefined
            for await (const c of log.readEncoded({ from: seq - 1 })) frame = c.frame
            const answer = await transport.request({
              method: 'POST',
              url: `${server.url}/v1/users/${name}/append`,
              headers: {
                authorization: `Bearer ${tokens[i]}`,
                'content-type': 'application/vnd.homedb.frames',
                'homedb-position': before,
                'homedb-epoch': '1',
              },
              body: frame!,
            })
            for await (const _ of answer.body) {
              // drained
            }
            if (answer.status !== 200) throw new Error(`append answered ${answer.status}`)
            acks++
          }
        }),
      )
      return opsPerSec(acks, performance.now() - start, { users: p.users })
    } finally {
      transport.close?.()
      await server.stop()
    }
  }

/** One row per commit in one SQLite database, each commit its own FULL-synced transaction. */
const sqliteCentral: SystemRun<HomeParams> = async (p, ctx) => {
  const db = await openSqlite(ctx.tmpDir(), 'FULL')
  try {
    const insert = db.prepare('INSERT INTO rows (id, body) VALUES (?, ?)')
    const body = Buffer.alloc(100, 7)
    const ms = ctx.warmup ? p.durationMs / 3 : p.durationMs
    let commits = 0
    const start = performance.now()
    while (performance.now() - start < ms) {
      insert.run(`user-${commits % p.users}/${commits}`, body)
      commits++
    }
    return opsPerSec(commits, performance.now() - start, { users: p.users })
  } finally {
    db.close()
  }
}

/** Acknowledged appends per second on one home with many users. */
export const replicationHome = defineWorkload<HomeParams>({
  name: 'replication-home',
  title: 'A home server: acknowledged appends per second with many users appending at once',
  description:
    '`home`: a home server in its own process (`homedb serve`, open-log LRU sized to hold every user); `users` ' +
    'clients in the bench process each append one commit (a 100-byte payload, one frame) and await its ' +
    'acknowledgement before the next, all at once, over keep-alive HTTP; an acknowledgement means the frame was ' +
    'verified, appended to that user\u2019s own log and fdatasynced. `home-64-threads`: the same with ' +
    '`UV_THREADPOOL_SIZE=64` in the server (more fdatasyncs in flight at once). `sqlite-central`: the central-store baseline, ' +
    'one better-sqlite3 database (WAL, synchronous FULL) taking one row per commit, each its own transaction, in ' +
    'process (no network at all, so an upper bound for that architecture).',
  unit: 'opsPerSec',
  params: (quick) => ({ users: quick ? 100 : 1_000, durationMs: quick ? 2_000 : 5_000 }),
  capMs: (quick) => (quick ? 60_000 : 180_000),
  repeats: 3,
  systems: { home: home(undefined), 'home-64-threads': home(64), 'sqlite-central': sqliteCentral },
  ratios: { 'home : sqlite-central': { of: 'home', to: 'sqlite-central' } },
  notes:
    'Each user\u2019s log is its own file, so appends of different users never share an fdatasync; they run ' +
    'concurrently on libuv\u2019s thread pool (4 threads by default), while SQLite serialises every commit behind ' +
    'one WAL fsync. Appends of one user in one event-loop turn share one fdatasync (group commit).',
})
