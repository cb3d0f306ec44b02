// A seeded random workload over every table kind, for the replication tests: transactions of 1-4 operations on a
// single, a lookupTable, a list, a lookupList, a lookupSet and a lookupMap.
import { list, lookupList, lookupMap, lookupSet, lookupTable, schema, single } from '@homedb/tables'
import type { Rng } from '@homedb/testkit'

export const Every = schema({
  profile: single<{ name: string; n: number }>(),
  files: lookupTable<string, { size: number; tags: string[] }>(),
  events: list<{ at: number; what: string }>(),
  chapters: lookupList<string, string>(),
  members: lookupSet<string, number>(),
  shares: lookupMap<string, string, { mode: 'r' | 'w' }>(),
})

type EveryDb = Awaited<ReturnType<typeof import('@homedb/tables').openDb<(typeof Every)['tables']>>>

function operation(db: EveryDb, rng: Rng): void {
  const key = `k${rng.int(0, 40)}`
  switch (rng.int(0, 9)) {
    case 0:
      db.profile.insert({ name: `p${rng.int(0, 99)}`, n: rng.int(0, 1e6) })
      return
    case 1:
    case 2:
      db.files.insert(key, { size: rng.int(0, 1e6), tags: [`t${rng.int(0, 5)}`] })
      return
    case 3:
      if (db.files.has(key)) db.files.remove(key)
      else db.events.push({ at: rng.int(0, 1e9), what: 'miss' })
      return
    case 4:
      if (db.events.length > 50 && rng.chance(0.5)) db.events.remove(rng.int(0, db.events.length - 1))
      else db.events.push({ at: rng.int(0, 1e9), what: key })
      return
    case 5:
      db.chapters.push(key, `c${rng.int(0, 1e6)}`)
      return
    case 6:
      db.members.insert(key, rng.int(0, 30))
      return
    case 7:
      if (db.members.has(key, 3)) db.members.remove(key, 3)
      else db.members.createKey(`e${key}`)
      return
    case 8:
      db.shares.insert(key, `u${rng.int(0, 9)}`, { mode: rng.chance(0.5) ? 'r' : 'w' })
      return
    default:
      if (rng.chance(0.05)) db.chapters.clearKey(key)
      else db.shares.remove(key, `u${rng.int(0, 9)}`)
  }
}

/** Runs one random transaction of 1-4 operations. */
export function randomTransaction(db: EveryDb, rng: Rng): void {
  const n = rng.int(1, 4)
  void db.transaction(() => {
    for (let i = 0; i < n; i++) operation(db, rng)
  })
}

/** `count` under `pnpm test`, `full` with HOMEDB_REPLICATION_FULL=1 (or `pnpm torture`-style long runs). */
export function scaled(count: number, full: number): number {
  return process.env.HOMEDB_REPLICATION_FULL === '1' ? full : count
}

/** The seed of a randomised test: HOMEDB_REPLICATION_SEED or the time; printed so a failure replays. */
export function testSeed(name: string): number {
  const seed = Number(process.env.HOMEDB_REPLICATION_SEED ?? Date.now() % 2 ** 31)
  console.log(`${name}: seed ${seed} (HOMEDB_REPLICATION_SEED=${seed} replays it)`)
  return seed
}
