// kill -9 of the home server process mid-stream, then a restart on the same port: nothing the home acknowledged
// is lost, and the shipper and the replicas resume with no duplicate and no gap.
import { openReplica, ship } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { seededRng } from '@homedb/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { addUserOverHttp } from './support/admin-http.js'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, startHomeProcess } from './support/home-process.js'
import { Every, randomTransaction, scaled, testSeed } from './support/workload.js'

const next = tempDirs('kill-home')
let home: HomeProcess | undefined
afterAll(async () => {
  await home?.kill9()
})

const retry = { baseMs: 10, maxMs: 200 }

async function headOf(url: string, token: string): Promise<number> {
  const answer = await fetch(`${url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${token}` } })
  return ((await answer.json()) as { log: { head: { seq: number } } }).log.head.seq
}

describe('kill -9 of the home', () => {
  it('loses nothing it acknowledged; shipper and replicas resume with no duplicate and no gap', async () => {
    const rng = seededRng(testSeed('kill-home'))
    const dataDir = next()
    const token = 'alice-token-for-tests'
    home = await startHomeProcess(dataDir, 'admin-token-for-tests')
    const port = home.port
    await addUserOverHttp(home.url, 'admin-token-for-tests', 'alice', token)
    const db = await openDb(Every, { dir: next() })
    const shipper = ship(db, { home: home.url, user: 'alice', token, retry, maxBatchBytes: 16 * 1024 })
    let acked = 0
    shipper.onNotice((n) => {
      if (n.type === 'acked') acked = Math.max(acked, n.seq)
    })
    const replicas = await Promise.all(
      [0, 1].map(() => openReplica(Every, { home: home!.url, user: 'alice', token, waitMs: 500, retry })),
    )
    const problems: string[] = []
    for (const [i, r] of replicas.entries()) {
      let last = r.seq
      r.onCommit((e) => {
        if (e.reset) problems.push(`replica ${i} reset at ${e.seq}`)
        else if (e.seq !== last + 1) problems.push(`replica ${i}: ${last} → ${e.seq}`)
        last = e.seq
      })
    }
    const rounds = scaled(3, 10)
    for (let round = 0; round < rounds; round++) {
      // Commit while shipping, until the home has acknowledged some of them, then kill it mid-stream.
      const target = db.seq + 300
      while (acked < target - 150) {
        for (let i = 0; i < 20; i++) randomTransaction(db, rng)
        await new Promise((r) => setTimeout(r, 1))
      }
      const ackedAtKill = acked
      await home.kill9()
      for (let i = 0; i < 100; i++) randomTransaction(db, rng)
      await db.sync()
      home = await startHomeProcess(dataDir, 'admin-token-for-tests', port)
      expect(await headOf(home.url, token)).toBeGreaterThanOrEqual(ackedAtKill)
    }
    await shipper.flushed()
    await Promise.all(replicas.map((r) => r.waitFor(db.seq, { timeoutMs: 60_000 })))
    expect(await headOf(home.url, token)).toBe(db.seq)
    for (const r of replicas) expect(r.stateHash()).toBe(db.stateHash())
    expect(problems).toEqual([])
    await Promise.all(replicas.map((r) => r.close()))
    await shipper.close()
    await db.close()
  })
})
