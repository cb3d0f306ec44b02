// A writer ships to a home over HTTP, a replica follows it live, and a new writer machine bootstraps from the home
// and continues the same history: the whole path, in one process, on loopback.
import { list, lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HomeServer, homeSource, openReplica, replicaStatus, ship, startHomeServer } from '../src/index.js'
import { tempDir } from './support/temp-dir.js'

const Core = schema({ files: lookupTable<string, { size: number }>(), events: list<string>() })
const next = tempDir()
let server: HomeServer
const token = 'alice-token-0123456789'

beforeAll(async () => {
  server = await startHomeServer({ dataDir: next(), adminToken: 'admin-token-for-tests', pageCommits: 8 })
  await server.addUser('alice', { token })
})
afterAll(() => server.close())

describe('ship, replica, bootstrap', () => {
  it('ships commits, a replica follows live and verifies its state hash, a new machine continues', async () => {
    const dir = next()
    const db = await openDb(Core, { dir })
    const shipper = ship(db, { home: server.url, user: 'alice', token })
    for (let i = 0; i < 50; i++) db.files.insert(`f${i}`, { size: i })
    await shipper.flushed()
    expect(shipper.status).toMatchObject({ ackedSeq: 50, lagCommits: 0 })

    const replica = await openReplica(Core, { home: server.url, user: 'alice', token, waitMs: 2000 })
    expect(replica.seq).toBe(50)
    db.events.push('live')
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 5000 })
    expect(replica.stateHash()).toBe(db.stateHash())
    expect(() => replica.events.push('no')).toThrow(expect.objectContaining({ code: 'TABLES_READ_ONLY' }))
    expect(replicaStatus(replica).state).toBe('live')

    await db.compact()
    db.events.push('after compaction')
    await shipper.flushed()
    const hash = db.stateHash()
    await shipper.close()
    await db.close()

    const dir2 = next()
    const db2 = await openDb(Core, { dir: dir2, bootstrap: homeSource({ home: server.url, user: 'alice', token }) })
    expect(db2.stateHash()).toBe(hash)
    expect(db2.seq).toBe(52)
    const shipper2 = ship(db2, { home: server.url, user: 'alice', token })
    db2.events.push('from machine 2')
    await shipper2.flushed()
    await replica.waitFor(db2.seq, { timeoutMs: 5000 })
    expect(replica.stateHash()).toBe(db2.stateHash())
    await shipper2.close()
    await db2.close()
    await replica.close()
  })

  it('resumes a restarted writer from the position the home acknowledged, without sending anything twice', async () => {
    await server.addUser('carl', { token })
    const dir = next()
    let db = await openDb(Core, { dir })
    let shipper = ship(db, { home: server.url, user: 'carl', token })
    for (let i = 0; i < 20; i++) db.events.push(`e${i}`)
    await shipper.flushed()
    await shipper.close()
    await db.close()
    db = await openDb(Core, { dir })
    shipper = ship(db, { home: server.url, user: 'carl', token })
    const acked: number[] = []
    shipper.onNotice((n) => {
      if (n.type === 'acked') acked.push(n.seq)
    })
    db.events.push('after restart')
    await shipper.flushed()
    expect(acked).toEqual([21])
    expect(server.service.users().find((u) => u.name === 'carl')?.head?.seq).toBe(21)
    await shipper.close()
    await db.close()
  })
})
