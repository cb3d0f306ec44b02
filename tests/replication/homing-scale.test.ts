// Three homes and a directory (once embedded, once on a real etcd); 30 users spread over them through one
// openUserDbs app under continuous write load; a replica per user; users moved back and forth while all that runs.
// At the end: every commit is on the user's current home, every replica converged (seq, chain, stateHash()), and the
// audit of every append the homes accepted shows one home per user and homeEpoch. HOMEDB_REPLICATION_FULL=1 runs
// more moves and writes.
import {
  type AcceptedAppend,
  type DirectoryOption,
  type HomeServer,
  moveUser,
  openDirectory,
  openReplica,
  openUserDbs,
  startDirectory,
  startHomeServer,
} from '@homedb/replication'
import { type Db, logOf, lookupTable, schema } from '@homedb/tables'
import { seededRng } from '@homedb/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { type EtcdCluster, startEtcd } from '../support/etcd.js'
import { tempDirs } from './support/dirs.js'
import { scaled, testSeed } from './support/workload.js'

const next = tempDirs('homing-scale')
const ADMIN = 'homing-scale-admin-token'
const Notes = schema({ notes: lookupTable<string, { n: number; by: string }>() })
const tokenOf = (user: string) => `${user}-token-for-tests`
const retry = { baseMs: 10, maxMs: 200 }

let etcd: EtcdCluster | undefined
afterAll(async () => {
  await etcd?.close()
})

type Backend = () => Promise<{ option: DirectoryOption; close(): Promise<void> }>
const backends: [string, Backend][] = [
  [
    'embedded',
    async () => {
      const server = await startDirectory({ dataDir: next(), adminToken: ADMIN })
      return { option: server.url, close: () => server.close() }
    },
  ],
  [
    'etcd',
    async () => {
      etcd ??= await startEtcd()
      return { option: { etcd: { hosts: etcd.hosts, prefix: `scale${Date.now()}/` } }, close: async () => {} }
    },
  ],
]

/** Audit: which homes accepted appends of each (user, homeEpoch). */
function audit(): { record(home: number, a: AcceptedAppend): void; conflicts(): string[]; count(): number } {
  const seen = new Map<string, Set<number>>()
  let count = 0
  return {
    record(home, a) {
      count++
      const key = `${a.user}@${a.epoch}`
      seen.set(key, (seen.get(key) ?? new Set()).add(home))
    },
    conflicts: () => [...seen].filter(([, homes]) => homes.size > 1).map(([key, h]) => `${key}: ${[...h]}`),
    count: () => count,
  }
}

describe.each(backends)('three homes, a %s directory, 30 users under write load with moves', (_name, open) => {
  it('loses no commit, converges every replica, and never has two homes accept one user under one epoch', async () => {
    const rng = seededRng(testSeed('homing-scale'))
    const backend = await open()
    const accepted = audit()
    const homes: HomeServer[] = []
    for (let i = 0; i < 3; i++) {
      homes.push(
        await startHomeServer({
          dataDir: next(),
          adminToken: ADMIN,
          directory: backend.option,
          reconcileIntervalMs: 500,
          onAccepted: (a) => accepted.record(i, a),
        }),
      )
    }
    const users = Array.from({ length: 30 }, (_, i) => `user${i}`)
    for (const [i, user] of users.entries()) await homes[i % 3]!.addUser(user, { token: tokenOf(user) })

    const app = openUserDbs(Notes, { dir: next(), directory: backend.option, credentials: tokenOf, retry, maxOpen: 64 })
    const replicas = await Promise.all(
      users.map((user) =>
        openReplica(Notes, { directory: backend.option, user, token: tokenOf(user), waitMs: 1_000, retry }),
      ),
    )

    // Continuous writes to random users until the moves are done.
    let writing = true
    let commits = 0
    const writer = (async () => {
      while (writing) {
        const user = rng.pick(users)
        await app.use(user, (db: Db<(typeof Notes)['tables']>) =>
          db.notes.insert(`k${rng.int(0, 50)}`, { n: commits++, by: user }),
        )
        if (commits % 20 === 0) await new Promise((r) => setTimeout(r, 5))
      }
    })()

    // Moves back and forth, one at a time (the mover of a deployment), each to another home.
    const directory = openDirectory(backend.option, { adminToken: ADMIN })
    const moves = scaled(12, 60)
    const freezes: number[] = []
    for (let m = 0; m < moves; m++) {
      const user = rng.pick(users)
      const from = (await directory.lookup(user))!.home
      const to = rng.pick(homes.filter((h) => h.url !== from)).url
      const result = await moveUser({ directory: backend.option, user, to, adminToken: ADMIN })
      freezes.push(result.freezeMs)
      expect((await directory.lookup(user))!.home).toBe(to)
    }
    writing = false
    await writer

    // Every user's final state, then everything delivered.
    const finals = new Map<string, { seq: number; chain: string; hash: string }>()
    for (const user of users) {
      finals.set(
        user,
        await app.use(user, (db) => ({ seq: db.seq, chain: logOf(db).head.chain, hash: db.stateHash() })),
      )
    }
    expect((await app.close()).undelivered).toEqual([])

    for (const [i, user] of users.entries()) {
      const final = finals.get(user)!
      const entry = (await directory.lookup(user))!
      const info = await fetch(`${entry.home}/v1/users/${user}/log`, {
        headers: { authorization: `Bearer ${tokenOf(user)}` },
      })
      const log = ((await info.json()) as { log: { head: { seq: number; chain: string } } | null }).log
      expect(log?.head ?? { seq: 0, chain: '0000000000000000' }).toMatchObject({ seq: final.seq, chain: final.chain })
      await replicas[i]!.waitFor(final.seq, { timeoutMs: 30_000 })
      expect(replicas[i]!.stateHash()).toBe(final.hash)
    }
    expect(accepted.conflicts()).toEqual([])
    expect(accepted.count()).toBeGreaterThan(0)
    console.log(`homing-scale: ${commits} commits, ${moves} moves, freeze ms ${freezes.join(' ')}`)

    await Promise.all(replicas.map((r) => r.close()))
    await directory.close()
    await Promise.all(homes.map((h) => h.close()))
    await backend.close()
  })
})
