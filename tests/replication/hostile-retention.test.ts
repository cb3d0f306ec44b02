// Retention under abuse: a client with the user's token registers slot after slot at the oldest position and never
// confirms again. The user keeps at most maxSlotsPerUser slots (the least recently confirmed is replaced), and at
// each snapshot the writer ships, slots past maxSlotLagBytes are dropped, so the segments the home keeps stay
// within the cap however long the abuse goes on; an honest replica still converges.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { type HomeServer, openReplica, ship, startHomeServer } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { seededRng } from '@homedb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { Every, randomTransaction, testSeed } from './support/workload.js'

const next = tempDirs('hostile-retention')
const TOKEN = 'alice-token-for-tests'
const CAP = 16 * 1024
const SEGMENT = 4096
const MAX_SLOTS = 4
let server: HomeServer
let dataDir: string

beforeAll(async () => {
  dataDir = next()
  server = await startHomeServer({
    dataDir,
    adminToken: 'admin-token-for-tests',
    maxSlotLagBytes: CAP,
    maxSlotsPerUser: MAX_SLOTS,
    segmentBytes: SEGMENT,
  })
  await server.addUser('alice', { token: TOKEN })
})
afterAll(() => server.close())

/** Bytes of the segment files of alice's log (snapshots not counted). */
function segmentBytes(): number {
  const dir = join(dataDir, 'users', 'alice', 'log-1')
  return readdirSync(dir)
    .filter((name) => name.startsWith('segment-'))
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
}

async function registerSlot(slot: string, position: unknown): Promise<number> {
  const answer = await fetch(`${server.url}/v1/users/alice/slots/${slot}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ position }),
  })
  await answer.arrayBuffer()
  return answer.status
}

describe('slots that register and never confirm', () => {
  it('cannot hold more than maxSlotsPerUser slots nor keep more than the cap of commits', async () => {
    const rng = seededRng(testSeed('hostile-retention'))
    const db = await openDb(Every, { dir: next(), autoCompact: { ratio: 2, minBytes: 8 * 1024 } })
    const shipper = ship(db, { home: server.url, user: 'alice', token: TOKEN })
    for (let i = 0; i < 50; i++) randomTransaction(db, rng)
    await db.sync()
    await shipper.flushed()
    const oldest = async () =>
      (
        (await (
          await fetch(`${server.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${TOKEN}` } })
        ).json()) as { log: { start: unknown } }
      ).log.start
    const replica = await openReplica(Every, { home: server.url, user: 'alice', token: TOKEN, waitMs: 200 })
    let most = 0
    let registered = 0
    for (let round = 0; round < 40; round++) {
      // The abuser: a fresh slot at the oldest position the home holds, never confirmed again.
      const status = await registerSlot(`abuser-${round}`, await oldest())
      if (status === 200) registered++
      for (let i = 0; i < 40; i++) randomTransaction(db, rng)
      await db.sync()
      await shipper.flushed()
      const { seq } = await db.compact()
      // The writer ships the snapshot once the home holds its seq; the home then enforces the cap and releases.
      await expect
        .poll(() => server.service.users().find((u) => u.name === 'alice')!.snapshot?.seq, { timeout: 10_000 })
        .toBe(seq)
      const slots = server.service.users().find((u) => u.name === 'alice')!.slots
      expect(slots.length).toBeLessThanOrEqual(MAX_SLOTS)
      most = Math.max(most, segmentBytes())
    }
    await replica.waitFor(db.seq, { timeoutMs: 20_000 })
    expect(replica.stateHash()).toBe(db.stateHash())
    expect(registered).toBeGreaterThan(0)
    // Kept: at most the cap behind the last snapshot, plus the segment being written and the one the cap ends in.
    console.log(`hostile retention: at most ${most} segment bytes kept (cap ${CAP}, segments of ${SEGMENT})`)
    expect(most).toBeLessThanOrEqual(CAP + 2 * SEGMENT)
    await replica.close()
    await shipper.close()
    await db.close()
  })
})
