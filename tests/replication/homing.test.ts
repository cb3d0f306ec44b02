// Homing end to end on loopback: a directory, two homes, a writer shipping through the directory and a replica;
// the user moves while the writer commits; the writer and the replica continue on the new home from the same
// position (no resnapshot), the old home answers `moved` (never cacheable), and a stale writer is fenced.
import { type AcceptedAppend, moveUser, openReplica, ship } from '@homedb/replication'
import { logOf, lookupTable, openDb, schema } from '@homedb/tables'
import { describe, expect, it } from 'vitest'
import { localDeployments } from './support/deployment.js'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('homing')
const ADMIN = 'homing-admin-token'
const TOKEN = 'alice-token-for-tests'
const Core = schema({ files: lookupTable<string, { n: number }>() })
const retry = { baseMs: 10, maxMs: 200 }

const deploy = localDeployments(next, ADMIN)

function deployment(count: number, accepted: (AcceptedAppend & { home: number })[] = []) {
  return deploy(count, (i) => ({ onAccepted: (a) => accepted.push({ ...a, home: i }) }))
}

describe('homing', () => {
  it('moves a user live: writer and replica continue on the new home from the same position', async () => {
    const accepted: (AcceptedAppend & { home: number })[] = []
    const {
      directory: d,
      homes: [a, b],
    } = await deployment(2, accepted)
    await a!.addUser('alice', { token: TOKEN })
    expect(await d.local.lookup('alice')).toEqual({ user: 'alice', home: a!.url, homeEpoch: 1, state: 'active' })

    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { directory: d.url, user: 'alice', token: TOKEN, retry })
    for (let i = 0; i < 50; i++) db.files.insert(`a${i}`, { n: i })
    await shipper.flushed()
    const replica = await openReplica(Core, { directory: d.url, user: 'alice', token: TOKEN, waitMs: 500, retry })
    await replica.waitFor(db.seq, { timeoutMs: 10_000 })
    const resets: number[] = []
    replica.onCommit((e) => {
      if (e.reset) resets.push(e.seq)
    })

    // Keep committing while the user moves.
    let writing = true
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        db.files.insert(`m${i}`, { n: i })
        await new Promise((r) => setTimeout(r, 2))
      }
    })()
    const moved = await moveUser({ directory: d.url, user: 'alice', to: b!.url, adminToken: ADMIN })
    writing = false
    await writer
    expect(moved.epoch).toBe(2)
    expect(moved.freezeMs).toBeGreaterThanOrEqual(0)
    expect(moved.copiedBytes).toBeGreaterThan(0)
    expect(await d.local.lookup('alice')).toEqual({ user: 'alice', home: b!.url, homeEpoch: 2, state: 'active' })

    for (let i = 0; i < 20; i++) db.files.insert(`after${i}`, { n: i })
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 10_000 })
    expect(replica.stateHash()).toBe(db.stateHash())
    expect(resets).toEqual([])

    // The new home holds everything; the old one answers `moved`, never cacheable.
    const info = await fetch(`${b!.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(((await info.json()) as { log: { head: unknown } }).log.head).toEqual({
      logId: logOf(db).logId,
      seq: db.seq,
      chain: logOf(db).head.chain,
    })
    const old = await fetch(`${a!.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(old.status).toBe(409)
    expect(old.headers.get('cache-control')).toBe('no-store')
    expect(((await old.json()) as { error: unknown }).error).toMatchObject({ code: 'moved', home: b!.url, epoch: 2 })

    // Every accepted append was accepted by one home per epoch: a under 1, b under 2.
    const homesByEpoch = new Map<number, Set<number>>()
    for (const x of accepted) homesByEpoch.set(x.epoch, (homesByEpoch.get(x.epoch) ?? new Set()).add(x.home))
    expect([...homesByEpoch.entries()].map(([e, h]) => [e, [...h]])).toEqual([
      [1, [0]],
      [2, [1]],
    ])
    await replica.close()
    await shipper.close()
    await db.close()
  })

  it('fences a stale writer: the old home answers moved, the new one refuses the old epoch', async () => {
    const {
      directory: d,
      homes: [a, b],
    } = await deployment(2)
    await a!.addUser('alice', { token: TOKEN })
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { home: a!.url, user: 'alice', token: TOKEN, retry })
    db.files.insert('x', { n: 1 })
    await shipper.flushed()
    await shipper.close()
    await moveUser({ directory: d.url, user: 'alice', to: b!.url, adminToken: ADMIN })
    const head = logOf(db).head
    const position = `${logOf(db).logId}:${head.seq}:${head.chain}`
    const append = (home: string, epoch: number) =>
      fetch(`${home}/v1/users/alice/append`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'homedb-position': position,
          'homedb-epoch': String(epoch),
          'content-type': 'application/vnd.homedb.frames',
        },
        body: new Uint8Array(),
      })
    const atOld = await append(a!.url, 1)
    expect(atOld.status).toBe(409)
    expect(((await atOld.json()) as { error: { code: string } }).error.code).toBe('moved')
    const atNew = await append(b!.url, 1)
    expect(atNew.status).toBe(409)
    expect(((await atNew.json()) as { error: { code: string; epoch: number } }).error).toMatchObject({
      code: 'stale-epoch',
      epoch: 2,
    })
    await db.close()
  })
})
