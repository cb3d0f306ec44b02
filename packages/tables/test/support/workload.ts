// A seeded random workload over every table kind, and a digest of a db's full state, shared by the in-process
// follower tests and the writer child process (test/fixtures/follow-writer.ts) so both sides compute the same
// thing. Values and keys stay JSON-safe, so the digest can be a sha256 of canonical JSON.
import { createHash } from 'node:crypto'
import { type Db, list, lookupList, lookupMap, lookupSet, lookupTable, schema, single } from '../../src/index.js'
import { dumpUnordered } from './dump.js'

/** A deterministic generator of floats in [0, 1) (mulberry32), with a few helpers. */
export interface Rng {
  (): number
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number
  pick<T>(items: readonly T[]): T
  readonly seed: number
}

export function seededRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (() => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }) as Rng
  Object.defineProperty(next, 'seed', { value: seed >>> 0 })
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1))
  next.pick = (items) => items[Math.floor(next() * items.length)]!
  return next
}

/** Default seed: CI runs the same workload every time (its coverage checks must not depend on luck). */
const DEFAULT_SEED = 20_261_124

/**
 * `HOMEDB_TEST_SEED` if set (to replay a failure), `HOMEDB_TEST_SEED=random` for a fresh random seed (to explore),
 * otherwise a fixed seed.
 */
export function testSeed(): number {
  const pinned = process.env.HOMEDB_TEST_SEED
  if (pinned === 'random') return Math.floor(Math.random() * 2 ** 32) >>> 0
  if (pinned !== undefined && pinned !== '') {
    const seed = Number(pinned)
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`HOMEDB_TEST_SEED must be an integer, got ${pinned}`)
    return seed >>> 0
  }
  return DEFAULT_SEED
}

/** Runs `body` with a seeded generator; on failure the error message names the seed and how to replay it. */
export async function withSeed<T>(name: string, body: (rng: Rng) => Promise<T>): Promise<T> {
  const seed = testSeed()
  try {
    return await body(seededRng(seed))
  } catch (error) {
    const prefix = `[${name}: seed ${seed}; replay with HOMEDB_TEST_SEED=${seed}] `
    if (error instanceof Error) {
      error.message = prefix + error.message
      throw error
    }
    throw new Error(prefix + String(error))
  }
}

export type Value = null | boolean | number | string | Value[] | { [k: string]: Value }
export type K = string | number

/** One table of every kind. Values are typed `unknown` (the generator keeps them JSON-safe {@link Value}s). */
export const Mixed = schema({
  account: single<unknown>(),
  meta: lookupTable<K, unknown>(),
  events: list<unknown>(),
  history: lookupList<K, unknown>(),
  tags: lookupSet<K, K>(),
  shares: lookupMap<K, K, unknown>(),
})
export type MixedDb = Db<(typeof Mixed)['tables']>

const KEYS: readonly K[] = ['a', 'b', 'c', 'd', 'e', 'f', 0, 1, 2, 3.5]

function randomValue(rng: Rng, depth = 0): Value {
  const r = rng()
  if (depth > 2 || r < 0.35) {
    switch (rng.int(0, 4)) {
      case 0:
        return null
      case 1:
        return rng() < 0.5
      case 2:
        return rng.int(-1000, 1000)
      case 3:
        return Math.round(rng() * 1e6) / 1e3
      default:
        return `s${rng.int(0, 99)}`.repeat(rng.int(1, 4))
    }
  }
  if (r < 0.6) return Array.from({ length: rng.int(0, 3) }, () => randomValue(rng, depth + 1))
  const out: { [k: string]: Value } = {}
  for (let i = rng.int(0, 3); i > 0; i--) out[`f${rng.int(0, 5)}`] = randomValue(rng, depth + 1)
  return out
}

/** One random mutation that cannot throw (every precondition is checked first). */
function randomMutation(db: MixedDb, rng: Rng): void {
  const key = rng.pick(KEYS)
  const rare = rng() < 0.03
  switch (rng.int(0, 5)) {
    case 0:
      if (rng() < 0.8) db.account.insert(randomValue(rng))
      else db.account.clear()
      return
    case 1:
      if (rare) db.meta.clear()
      else if (rng() < 0.75) db.meta.insert(key, randomValue(rng))
      else db.meta.remove(key)
      return
    case 2: {
      const n = db.events.length
      if (rare) db.events.clear()
      else if (n === 0 || rng() < 0.6) db.events.push(randomValue(rng))
      else if (rng() < 0.5) db.events.pop()
      else db.events.remove(rng.int(0, n - 1))
      return
    }
    case 3: {
      const items = db.history.get(key)
      const r = rng()
      if (rare) db.history.clear()
      else if (r < 0.55) db.history.push(key, randomValue(rng))
      else if (r < 0.75 && items !== undefined && items.length > 0) db.history.remove(key, rng.int(0, items.length - 1))
      else if (r < 0.85) db.history.createKey(key)
      else db.history.clearKey(key)
      return
    }
    case 4: {
      const member = rng.pick(KEYS)
      const r = rng()
      if (rare) db.tags.clear()
      else if (r < 0.55) db.tags.insert(key, member)
      else if (r < 0.75) db.tags.remove(key, member)
      else if (r < 0.85) db.tags.createKey(key)
      else db.tags.clearKey(key)
      return
    }
    default: {
      const key2 = rng.pick(KEYS)
      const r = rng()
      if (rare) db.shares.clear()
      else if (r < 0.55) db.shares.insert(key, key2, randomValue(rng))
      else if (r < 0.75) db.shares.remove(key, key2)
      else if (r < 0.85) db.shares.createKey(key)
      else db.shares.clearKey(key)
    }
  }
}

/**
 * `commits` random commits: single mutations, transactions of several mutations (which may touch several
 * tables), and now and then a transaction that throws after mutating (rolled back: no commit, nothing to follow).
 */
export function randomBurst(db: MixedDb, rng: Rng, commits: number): void {
  let done = 0
  while (done < commits) {
    const r = rng()
    if (r < 0.5) {
      const before = db.seq
      randomMutation(db, rng)
      if (db.seq !== before) done++
    } else if (r < 0.95) {
      const before = db.seq
      db.transactionSync(() => {
        for (let i = rng.int(2, 6); i > 0; i--) randomMutation(db, rng)
      })
      if (db.seq !== before) done++
    } else {
      try {
        db.transactionSync(() => {
          for (let i = rng.int(1, 4); i > 0; i--) randomMutation(db, rng)
          throw new Error('rolled back on purpose')
        })
      } catch {
        // rolled back: nothing was written
      }
    }
  }
}

/** The full state as canonical JSON (tables in schema order, keyed tables sorted by key: see dumpUnordered). */
export function canonicalState(db: MixedDb): string {
  return JSON.stringify(dumpUnordered(db))
}

/** sha256 of {@link canonicalState}. */
export function stateDigest(db: MixedDb): string {
  return createHash('sha256').update(canonicalState(db)).digest('hex')
}
