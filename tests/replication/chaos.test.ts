// Writer → chaos proxy → home ← chaos proxy ← three replicas, under the proxy's default fault mix (refused and
// dropped requests, duplicates, delays, reorders, stalls, truncated and cut answers, partitions) with a budget,
// then heal(): no acknowledged commit is lost (the home ends at the writer's seq and chain, which proves the same
// history), the home stored every commit once, every replica applied each seq exactly once in order (resets
// aside) and converged to the writer's (seq, chain) and stateHash(). Seeded: CHAOS_SEED=<seed> replays a run;
// CHAOS_LONG=1 runs the long campaign (20 000 transactions, 2 000 faults per proxy, the proxy's default holds and
// the clients' default retry policy).
import { headPosition, openReplica, replicaStatus, ship, startHomeServer } from '@homedb/replication'
import { logOf, openDb } from '@homedb/tables'
import { seededRng } from '@homedb/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { type ChaosProxy, startChaosProxy } from '../support/chaos-proxy.js'
import { tempDirs } from './support/dirs.js'
import { Every, randomTransaction } from './support/workload.js'

const next = tempDirs('chaos')
const LONG = process.env.CHAOS_LONG === '1'
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31)
const TRANSACTIONS = LONG ? 20_000 : 2_500
const BUDGET = LONG ? 2_000 : 100
// The short run keeps the default mix of faults but shorter holds, so it takes seconds.
const LIMITS = LONG ? {} : { maxDelayMs: 100, maxStallMs: 150, maxCutMs: 100, maxPartitionMs: 200, maxDrainMs: 1_000 }
const TOKEN = 'alice-token-for-tests'
const cleanup: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined)
})

/** Every commit event a replica emitted that does not follow the one before it (a duplicate, a gap, a reorder). */
function watchOrder(replica: { seq: number; onCommit(l: (e: { seq: number; reset?: boolean }) => void): unknown }) {
  const problems: string[] = []
  let last = replica.seq
  let resets = 0
  replica.onCommit((e) => {
    if (e.reset) resets++
    else if (e.seq !== last + 1) problems.push(`${last} → ${e.seq}`)
    last = e.seq
  })
  return { problems, resets: () => resets }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1])
}

function describeProxy(name: string, proxy: ChaosProxy): string {
  const { faults, totalFaults, requests } = proxy.stats
  const kinds = Object.entries(faults)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
  return `${name}: ${totalFaults} faults in ${requests} requests (${kinds.join(', ')})`
}

describe('replication through a chaos proxy', () => {
  it(`loses no acknowledged commit, applies none twice and converges after heal (seed ${SEED})`, async () => {
    console.log(`chaos: seed ${SEED} (CHAOS_SEED=${SEED} replays it; CHAOS_LONG=1 runs the long campaign)`)
    const home = await startHomeServer({ dataDir: next(), pageCommits: 64, maxResponseBytes: 16 * 1024 })
    cleanup.push(() => home.close())
    await home.addUser('alice', { token: TOKEN })
    const writerProxy = await startChaosProxy({ target: home.url, seed: SEED, budget: BUDGET, limits: LIMITS })
    const readerProxy = await startChaosProxy({ target: home.url, seed: SEED ^ 0x5eed, budget: BUDGET, limits: LIMITS })
    cleanup.push(
      () => writerProxy.close(),
      () => readerProxy.close(),
    )
    const retry = LONG ? {} : { baseMs: 10, maxMs: 200 }
    const db = await openDb(Every, { dir: next(), autoCompact: { ratio: 2, minBytes: 64 * 1024 } })
    cleanup.push(() => db.close())
    // Small batches and a paced workload, so thousands of commits make hundreds of requests for the faults to hit.
    const shipper = ship(db, { home: writerProxy.url, user: 'alice', token: TOKEN, retry, maxBatchBytes: 4096 })
    cleanup.push(() => shipper.close())
    const replicas = await Promise.all(
      [0, 1, 2].map(() =>
        openReplica(Every, { home: readerProxy.url, user: 'alice', token: TOKEN, waitMs: 500, retry }),
      ),
    )
    for (const r of replicas) cleanup.push(() => r.close())
    const orders = replicas.map(watchOrder)

    const rng = seededRng(SEED)
    for (let i = 0; i < TRANSACTIONS; i++) {
      randomTransaction(db, rng)
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2))
    }
    // Then one transaction at a time until both proxies spent their budgets (bounded), so every run sees them all.
    const spent = () => writerProxy.stats.clean !== null && readerProxy.stats.clean !== null
    for (const started = Date.now(); !spent() && Date.now() - started < (LONG ? 600_000 : 30_000); ) {
      randomTransaction(db, rng)
      await new Promise((r) => setTimeout(r, 2))
    }
    await db.sync()
    await shipper.flushed()
    writerProxy.heal()
    readerProxy.heal()
    await Promise.all([writerProxy.settled(), readerProxy.settled()])
    console.log(describeProxy('writer proxy', writerProxy))
    console.log(describeProxy('reader proxy', readerProxy))

    const writer = headPosition(logOf(db))
    expect(shipper.status.ackedSeq).toBe(writer.seq)
    const info = await fetch(`${home.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(((await info.json()) as { log: { head: unknown } }).log.head).toEqual(writer)
    expect(await metric(home.url, 'homedb_append_commits_total')).toBe(writer.seq)
    await Promise.all(replicas.map((r) => r.waitFor(writer.seq, { timeoutMs: 60_000 })))
    for (const [i, r] of replicas.entries()) {
      expect(replicaStatus(r).position, `replica ${i}`).toEqual(writer)
      expect(r.stateHash(), `replica ${i}`).toBe(db.stateHash())
      expect(orders[i]!.problems, `replica ${i}`).toEqual([])
    }
    console.log(`chaos: ${writer.seq} commits; replica resets ${orders.map((o) => o.resets()).join(', ')}`)
    expect(writerProxy.stats.totalFaults).toBe(BUDGET)
    expect(readerProxy.stats.totalFaults).toBe(BUDGET)
  })
})
