// Writer + home (a `homedb serve` child process) + 3 replicas: random transactions over every table kind; every
// replica ends at the writer's (seq, chain) and state hash. 2 000 transactions under `pnpm test`, 10 000 with
// HOMEDB_REPLICATION_FULL=1.

import { headPosition, openReplica, ship } from '@homedb/replication'
import { logOf, openDb } from '@homedb/tables'
import { seededRng } from '@homedb/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { addUserOverHttp } from './support/admin-http.js'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, startHomeProcess } from './support/home-process.js'
import { Every, randomTransaction, scaled, testSeed } from './support/workload.js'

const next = tempDirs('cluster')
let home: HomeProcess | undefined
afterAll(async () => {
  await home?.kill9()
})

describe('writer, home and three replicas', () => {
  it('replicas reach the writer’s position and state hash after random transactions over every table kind', async () => {
    const seed = testSeed('cluster')
    const rng = seededRng(seed)
    const count = scaled(2_000, 10_000)
    home = await startHomeProcess(next(), 'admin-token-for-tests')
    const token = 'alice-token-for-tests'
    await addUserOverHttp(home.url, 'admin-token-for-tests', 'alice', token)
    const db = await openDb(Every, { dir: next(), autoCompact: { ratio: 2, minBytes: 64 * 1024 } })
    const shipper = ship(db, { home: home.url, user: 'alice', token })
    const replicas = await Promise.all(
      [0, 1, 2].map(() => openReplica(Every, { home: home!.url, user: 'alice', token, waitMs: 1000 })),
    )
    // Every replica applies commits in order with no gap and no duplicate (resets aside).
    const gaps: string[] = []
    for (const [i, r] of replicas.entries()) {
      let last = r.seq
      r.onCommit((e) => {
        if (!e.reset && e.seq !== last + 1) gaps.push(`replica ${i}: ${last} → ${e.seq}`)
        last = e.seq
      })
    }
    for (let i = 0; i < count; i++) {
      randomTransaction(db, rng)
      if (i % 100 === 99) await new Promise((r) => setImmediate(r))
    }
    await db.sync()
    await shipper.flushed()
    const position = headPosition(logOf(db))
    await Promise.all(replicas.map((r) => r.waitFor(db.seq, { timeoutMs: 60_000 })))
    for (const r of replicas) {
      expect(r.seq).toBe(position.seq)
      expect(r.stateHash()).toBe(db.stateHash())
    }
    expect(gaps).toEqual([])
    const info = await fetch(`${home.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${token}` } })
    expect(((await info.json()) as { log: { head: unknown } }).log.head).toEqual(position)
    await Promise.all(replicas.map((r) => r.close()))
    await shipper.close()
    await db.close()
  })
})
