// Commits never wait on the network: with the home down, every commit's durability promise resolves, the shipper's
// queue (its unshipped, held commits) grows, and everything arrives once the home is back. (The commit-rate ratio,
// home up vs down, is a bench figure: replication-shipping.)
import { ship } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { afterAll, describe, expect, it } from 'vitest'
import { addUserOverHttp } from './support/admin-http.js'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, startHomeProcess } from './support/home-process.js'
import { Every } from './support/workload.js'

const next = tempDirs('home-down')
let home: HomeProcess | undefined
afterAll(async () => {
  await home?.kill9()
})

describe('the home down for 1 000 commits', () => {
  it('resolves every commit locally, queues them, and delivers all after the restart', async () => {
    const dataDir = next()
    const token = 'alice-token-for-tests'
    home = await startHomeProcess(dataDir, 'admin-token-for-tests')
    const port = home.port
    await addUserOverHttp(home.url, 'admin-token-for-tests', 'alice', token)
    const db = await openDb(Every, { dir: next(), autoCompact: false })
    const shipper = ship(db, { home: home.url, user: 'alice', token, retry: { baseMs: 10, maxMs: 100 } })
    db.files.insert('before', { size: 0, tags: [] })
    await shipper.flushed()
    await home.kill9()

    const ackedBefore = shipper.status.ackedSeq
    let resolved = 0
    for (let i = 0; i < 1_000; i++) {
      await db.transaction(() => db.events.push({ at: i, what: 'offline' }))
      resolved++
    }
    expect(resolved).toBe(1_000)
    expect(shipper.status.ackedSeq).toBe(ackedBefore)
    expect(shipper.status.lagCommits).toBe(1_000)
    expect(['backoff', 'connecting']).toContain(shipper.status.state)
    // The queue is held by the local log: a compaction now keeps every unshipped commit readable.
    await db.compact()

    home = await startHomeProcess(dataDir, 'admin-token-for-tests', port)
    await shipper.flushed()
    expect(shipper.status).toMatchObject({ ackedSeq: db.seq, lagCommits: 0 })
    const info = await fetch(`${home.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${token}` } })
    expect(((await info.json()) as { log: { head: { seq: number } } }).log.head.seq).toBe(db.seq)
    await shipper.close()
    await db.close()
  })
})
