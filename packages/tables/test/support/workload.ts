// A seeded random workload over every table kind (driven by the test kit's seeded RNG), and a digest of a db's full
// state, shared by the in-process follower tests and the writer child process (test/fixtures/follow-writer.ts) so
// both sides compute the same thing. Values and keys stay JSON-safe, so the digest can be a sha256 of canonical JSON.
import { createHash } from 'node:crypto'
import type { Rng } from '@homedb/testkit'
import { type Db, list, lookupList, lookupMap, lookupSet, lookupTable, schema, single } from '../../src/index.js'
import { dumpUnordered } from './dump.js'

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
  const r = rng.next()
  if (depth > 2 || r < 0.35) {
    switch (rng.int(0, 4)) {
      case 0:
        return null
      case 1:
        return rng.next() < 0.5
      case 2:
        return rng.int(-1000, 1000)
      case 3:
        return Math.round(rng.next() * 1e6) / 1e3
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
  const rare = rng.next() < 0.03
  switch (rng.int(0, 5)) {
    case 0:
      if (rng.next() < 0.8) db.account.insert(randomValue(rng))
      else db.account.clear()
      return
    case 1:
      if (rare) db.meta.clear()
      else if (rng.next() < 0.75) db.meta.insert(key, randomValue(rng))
      else db.meta.remove(key)
      return
    case 2: {
      const n = db.events.length
      if (rare) db.events.clear()
      else if (n === 0 || rng.next() < 0.6) db.events.push(randomValue(rng))
      else if (rng.next() < 0.5) db.events.pop()
      else db.events.remove(rng.int(0, n - 1))
      return
    }
    case 3: {
      const items = db.history.get(key)
      const r = rng.next()
      if (rare) db.history.clear()
      else if (r < 0.55) db.history.push(key, randomValue(rng))
      else if (r < 0.75 && items !== undefined && items.length > 0) db.history.remove(key, rng.int(0, items.length - 1))
      else if (r < 0.85) db.history.createKey(key)
      else db.history.clearKey(key)
      return
    }
    case 4: {
      const member = rng.pick(KEYS)
      const r = rng.next()
      if (rare) db.tags.clear()
      else if (r < 0.55) db.tags.insert(key, member)
      else if (r < 0.75) db.tags.remove(key, member)
      else if (r < 0.85) db.tags.createKey(key)
      else db.tags.clearKey(key)
      return
    }
    default: {
      const key2 = rng.pick(KEYS)
      const r = rng.next()
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
    const r = rng.next()
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

/**
 * One commit of each kind of change the follower tests look for, on every table, whatever state the random bursts
 * left (so a test that checks its events hold every kind does not depend on its seed). Uses the key `'every'`, which
 * the random workload never does.
 */
export function everyKindOfChange(db: MixedDb): void {
  db.account.insert('every kind')
  db.meta.insert('every', 1)
  db.meta.remove('every')
  db.events.push('every')
  db.events.remove(db.events.length - 1)
  db.history.push('every', 1)
  db.history.remove('every', db.history.get('every')!.length - 1)
  db.tags.insert('every', 'member')
  db.tags.remove('every', 'member')
  db.shares.insert('every', 'key2', 1)
  db.shares.remove('every', 'key2')
}

/** The full state as canonical JSON (tables in schema order, keyed tables sorted by key: see dumpUnordered). */
export function canonicalState(db: MixedDb): string {
  return JSON.stringify(dumpUnordered(db))
}

/** sha256 of {@link canonicalState}. */
export function stateDigest(db: MixedDb): string {
  return createHash('sha256').update(canonicalState(db)).digest('hex')
}
