// Retention by acknowledgement: a replica's slot holds the home's log at the position it confirmed, until the
// replica falls past the size cap; then the next snapshot releases those commits, and the replica gets
// need-snapshot and reloads (one reset event), never a silent gap.
import { type HomeServer, httpTransport, openReplica, ship, startHomeServer, type Transport } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { Every } from './support/workload.js'

const next = tempDirs('retention')
const token = 'alice-token-for-tests'
let server: HomeServer

beforeAll(async () => {
  server = await startHomeServer({
    dataDir: next(),
    adminToken: 'admin-token-for-tests',
    maxSlotLagBytes: 4096,
    segmentBytes: 1024,
  })
  await server.addUser('alice', { token })
})
afterAll(() => server.close())

/** A transport that fails every request, and drops every answer, while `paused` (a replica cut off). */
function gated(): Transport & { paused: boolean } {
  const inner = httpTransport()
  const gate = {
    paused: false,
    async request(request: Parameters<Transport['request']>[0]) {
      if (gate.paused) throw new Error('the network is cut')
      const response = await inner.request(request)
      if (!gate.paused) return response
      for await (const _ of response.body) {
        // dropped: the answer of a long-poll that was in flight when the network was cut
      }
      throw new Error('the network is cut')
    },
    close: () => inner.close?.(),
  }
  return gate
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10))
}

describe('retention cap', () => {
  it('holds commits for a confirmed replica, then drops a replica past the cap, which reloads', async () => {
    const db = await openDb(Every, { dir: next(), autoCompact: false })
    const shipper = ship(db, { home: server.url, user: 'alice', token })
    for (let i = 0; i < 20; i++) db.files.insert(`f${i}`, { size: i, tags: ['x'] })
    await shipper.flushed()
    const transport = gated()
    const replica = await openReplica(Every, {
      home: server.url,
      user: 'alice',
      token,
      transport,
      waitMs: 100,
      confirmIntervalMs: 0,
      retry: { baseMs: 5, maxMs: 50 },
    })
    const events: string[] = []
    let last = replica.seq
    replica.onCommit((e) => {
      if (e.reset) events.push(`reset@${e.seq}`)
      else if (e.seq !== last + 1) events.push(`gap ${last}→${e.seq}`)
      last = e.seq
    })
    const slotSeq = () => server.service.users().find((u) => u.name === 'alice')?.slots[0]?.seq ?? -1
    await until(() => slotSeq() === 20)

    // Within the cap: a snapshot keeps what the slot still needs.
    transport.paused = true
    db.events.push({ at: 1, what: 'small' })
    await db.compact()
    await shipper.flushed()
    await until(() => (server.service.users()[0]?.snapshot?.seq ?? 0) === db.seq)
    expect(server.service.users()[0]?.slots).toHaveLength(1)
    transport.paused = false
    await replica.waitFor(db.seq, { timeoutMs: 10_000 })
    expect(events).toEqual([])

    // Past the cap: the slot is dropped at the next snapshot, the commits it held are released.
    await until(() => slotSeq() === db.seq)
    transport.paused = true
    for (let i = 0; i < 200; i++) db.events.push({ at: i, what: 'x'.repeat(100) })
    await db.compact()
    await shipper.flushed()
    await until(() => (server.service.users()[0]?.snapshot?.seq ?? 0) === db.seq)
    expect(server.service.users()[0]?.slots).toHaveLength(0)
    db.events.push({ at: 0, what: 'after' })
    await shipper.flushed()
    transport.paused = false
    await replica.waitFor(db.seq, { timeoutMs: 10_000 })
    expect(events).toEqual([`reset@${db.seq - 1}`])
    expect(replica.stateHash()).toBe(db.stateHash())
    await replica.close()
    await shipper.close()
    await db.close()
  })
})
