// A three-member etcd cluster on loopback as the directory: the etcd leader is killed (kill -9) while a user moves,
// under writes. The directory and moves keep working: the move completes (a move the lost leader aborted is retried
// once), the user moves back while the member is still down, the member rejoins, and nothing is lost.
import {
  type AcceptedAppend,
  type HomeServer,
  MoveError,
  type MoveUserOptions,
  moveUser,
  openDirectory,
  openReplica,
  ship,
  startHomeServer,
} from '@homedb/replication'
import { logOf, lookupTable, openDb, schema } from '@homedb/tables'
import { Etcd3 } from 'etcd3'
import { afterAll, describe, expect, it } from 'vitest'
import { type EtcdCluster, type EtcdMember, startEtcd } from '../support/etcd.js'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('homing-etcd')
const ADMIN = 'homing-etcd-admin-token'
const TOKEN = 'alice-token-for-tests'
const Core = schema({ notes: lookupTable<string, { n: number }>() })
const retry = { baseMs: 10, maxMs: 200 }

let cluster: EtcdCluster | undefined
const homes: HomeServer[] = []
afterAll(async () => {
  await Promise.all(homes.map((h) => h.close()))
  await cluster?.close()
})

/** The member the cluster currently follows. */
async function leader(members: readonly EtcdMember[]): Promise<EtcdMember> {
  const ids: string[] = []
  for (const m of members) {
    const client = new Etcd3({ hosts: [m.host] })
    try {
      const status = await client.maintenance.status({})
      ids.push(status.header.member_id)
      if (status.header.member_id === status.leader) return m
    } finally {
      client.close()
    }
  }
  throw new Error(`no member says it leads (${ids.join(', ')})`)
}

/** A move; if the leader's death aborted it (the directory did not answer in time), once more. */
async function moveOnce(options: MoveUserOptions): Promise<number> {
  try {
    return (await moveUser(options)).epoch
  } catch (error) {
    if (!(error instanceof MoveError) || error.context.outcome !== 'aborted') throw error
    console.log(`a move aborted while etcd elected a new leader: ${error.message}; moving again`)
    return (await moveUser(options)).epoch
  }
}

describe('a three-member etcd cluster as the directory', () => {
  it('keeps the directory and moves working when the leader is killed mid-move', async () => {
    cluster = await startEtcd({ members: 3 })
    const directory = { etcd: { hosts: cluster.hosts } }
    const epochsByHome = new Map<number, Set<number>>()
    for (let i = 0; i < 2; i++) {
      const record = (a: AcceptedAppend) => epochsByHome.set(a.epoch, (epochsByHome.get(a.epoch) ?? new Set()).add(i))
      homes.push(await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory, onAccepted: record }))
    }
    const [a, b] = homes as [HomeServer, HomeServer]
    await a.addUser('alice', { token: TOKEN })
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { directory, user: 'alice', token: TOKEN, retry })
    for (let i = 0; i < 2_000; i++) db.notes.insert(`n${i % 300}`, { n: i })
    await shipper.flushed()
    const replica = await openReplica(Core, { directory, user: 'alice', token: TOKEN, waitMs: 500, retry })
    let writing = true
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        db.notes.insert(`w${i % 50}`, { n: i })
        await new Promise((r) => setTimeout(r, 3))
      }
    })()

    const victim = await leader(cluster.members)
    let killed: Promise<void> | undefined
    const epoch = await moveOnce({
      directory,
      user: 'alice',
      to: b.url,
      adminToken: ADMIN,
      onProgress(p) {
        if (p.phase === 'copying' && killed === undefined) killed = victim.kill()
      },
    })
    await killed
    expect(victim.process).toBeUndefined()
    const client = openDirectory(directory)
    expect(await client.lookup('alice')).toMatchObject({ home: b.url, homeEpoch: epoch, state: 'active' })

    // With the member still down, the user moves back.
    const back = await moveOnce({ directory, user: 'alice', to: a.url, adminToken: ADMIN })
    expect(back).toBe(epoch + 1)
    await victim.restart()
    const rejoined = openDirectory({ etcd: { hosts: [victim.host] } })
    expect(await rejoined.lookup('alice')).toMatchObject({ home: a.url, homeEpoch: back })

    writing = false
    await writer
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 30_000 })
    expect(replica.stateHash()).toBe(db.stateHash())
    const info = await fetch(`${a.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(((await info.json()) as { log: { head: unknown } }).log.head).toEqual({
      logId: logOf(db).logId,
      seq: db.seq,
      chain: logOf(db).head.chain,
    })
    for (const [e, accepting] of epochsByHome) expect([e, accepting.size]).toEqual([e, 1])
    await Promise.all([client.close(), rejoined.close(), replica.close(), shipper.close()])
    await db.close()
  })
})
