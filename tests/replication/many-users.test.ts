// One home, many users each appending once: open file descriptors and RSS of the server process stay under the
// documented bounds (README, "Limits": at most ~2 descriptors per open log, `maxOpenLogs` = 256 by default).
// 1 000 users under `pnpm test`, 5 000 with HOMEDB_REPLICATION_FULL=1.
import { openLog } from '@homedb/log'
import { afterAll, describe, expect, it } from 'vitest'
import { addUserOverHttp } from './support/admin-http.js'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, openFds, rssBytes, startHomeProcess } from './support/home-process.js'
import { scaled } from './support/workload.js'

const next = tempDirs('many-users')
let home: HomeProcess | undefined
afterAll(async () => {
  await home?.kill9()
})

const MAX_OPEN_LOGS = 256
/** The documented bounds for a default server: 2 fds per open log plus the process's own (~40). */
const FD_BOUND = 2 * MAX_OPEN_LOGS + 64
const RSS_BOUND = 256 * 1024 * 1024

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]!)
    }),
  )
}

describe('many users on one home', () => {
  it('keeps open files and RSS under the documented bounds while every user appends once', async () => {
    const users = Array.from({ length: scaled(1_000, 5_000) }, (_, i) => `user-${i}`)
    home = await startHomeProcess(next(), 'admin-token-for-tests')
    const url = home.url
    await pool(users, 32, async (name) => {
      await addUserOverHttp(url, 'admin-token-for-tests', name, `${name}-token-for-tests`)
    })
    let maxFds = 0
    let maxRss = 0
    const pid = home.pid
    const sampler = setInterval(() => {
      maxFds = Math.max(maxFds, openFds(pid))
      maxRss = Math.max(maxRss, rssBytes(pid))
    }, 50)
    try {
      await pool(users, 32, async (name) => {
        const log = await openLog(undefined, { durability: 'memory' })
        log.append(new TextEncoder().encode(`hello from ${name}`))
        let frame: Uint8Array | undefined
        for await (const c of log.readEncoded({ from: 0 })) frame = c.frame
        const answer = await fetch(`${url}/v1/users/${name}/append`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${name}-token-for-tests`,
            'content-type': 'application/vnd.homedb.frames',
            'homedb-position': `${log.logId}:0:0000000000000000`,
            'homedb-epoch': '1',
          },
          body: frame!,
        })
        expect(answer.status).toBe(200)
      })
    } finally {
      clearInterval(sampler)
    }
    maxFds = Math.max(maxFds, openFds(pid))
    maxRss = Math.max(maxRss, rssBytes(pid))
    console.log(
      `${users.length} users: max ${maxFds} fds (bound ${FD_BOUND}), max RSS ${(maxRss / 2 ** 20).toFixed(1)} MiB`,
    )
    expect(maxFds).toBeLessThanOrEqual(FD_BOUND)
    expect(maxRss).toBeLessThanOrEqual(RSS_BOUND)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`homedb_users ${users.length}`))
    expect(metrics).toMatch(new RegExp(`homedb_appends_total ${users.length}`))
    const open = Number(/homedb_open_logs (\d+)/.exec(metrics)?.[1])
    expect(open).toBeLessThanOrEqual(MAX_OPEN_LOGS)
  })
})
