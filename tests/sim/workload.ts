// What the simulated writers write: a small schema over four table kinds and seeded transactions of one to three
// operations, with payloads of varied size so segments roll and compactions have something to do.
import { type Db, list, lookupSet, lookupTable, schema, single } from '@homedb/tables'
import type { Rng } from '@homedb/testkit'

/** The schema every simulated user's db has. */
export const SimSchema = schema({
  profile: single<{ name: string; n: number }>(),
  items: lookupTable<string, { n: number; note: string }>(),
  tags: lookupSet<string, number>(),
  events: list<{ at: number; what: string }>(),
})

/** A simulated user's db. */
export type SimDb = Db<(typeof SimSchema)['tables']>

function operation(db: SimDb, rng: Rng, at: number): void {
  const key = `k${rng.int(0, 30)}`
  switch (rng.int(0, 6)) {
    case 0:
      db.profile.insert({ name: `p${rng.int(0, 99)}`, n: rng.int(0, 1e6) })
      return
    case 1:
    case 2:
      db.items.insert(key, { n: rng.int(0, 1e6), note: 'x'.repeat(rng.int(0, 300)) })
      return
    case 3:
      if (db.items.has(key)) db.items.remove(key)
      else db.tags.insert(key, rng.int(0, 9))
      return
    case 4:
      if (db.tags.has(key, 3)) db.tags.remove(key, 3)
      else db.tags.insert(key, 3)
      return
    default:
      if (db.events.length > 40) db.events.remove(0)
      db.events.push({ at, what: key })
  }
}

/** Runs one transaction of 1–3 operations; resolves when it is durable (rejects if the log failed). */
export function randomTransaction(db: SimDb, rng: Rng, at: number): Promise<void> {
  const n = rng.int(1, 3)
  return db.transaction(() => {
    for (let i = 0; i < n; i++) operation(db, rng, at)
  })
}
