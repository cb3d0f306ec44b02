// Unsubscribing releases everything (listener count back where it started, heap flat), and folding the change
// stream over an empty table rebuilds the table exactly: a property test over random operations and aborts.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { list, lookupList, lookupMap, lookupSet, lookupTable, openDb, schema, single } from '@homedb/tables'
import { plain } from '@homedb/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { changes, commits, keyState, state } from '../src/index.js'
import { applyChange, emptyStateOf } from './support/fold.js'

const Core = schema({
  account: single<{ n: number }>(),
  metadata: lookupTable<string, { n: number }>(),
  events: list<number>(),
  history: lookupList<string, number>(),
  children: lookupSet<string, number>(),
  shares: lookupMap<string, string, { n: number }>(),
})

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('unsubscribing', () => {
  it('leaves the db’s listener count where it started and the heap flat after 100 000 cycles', async () => {
    const db = await openDb(Core)
    let active = 0
    const original = db.onCommit.bind(db)
    db.onCommit = (listener) => {
      active++
      const off = original(listener)
      return () => {
        active--
        off()
      }
    }
    const cycle = (i: number) => {
      const subs = [
        changes(db.metadata).subscribe(),
        state(db.events).subscribe(),
        keyState(db.metadata, `k${i % 1000}`).subscribe(),
        commits(db).subscribe(),
      ]
      if (i % 100 === 0) db.metadata.insert(`k${i % 1000}`, { n: i })
      for (const s of subs) s.unsubscribe()
    }
    for (let i = 0; i < 10_000; i++) cycle(i)
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 100_000; i++) cycle(i)
    expect(active).toBe(0)
    gc()
    const growth = process.memoryUsage().heapUsed - before
    expect(growth).toBeLessThan(2 * 1024 * 1024)
    await db.close()
  })
})

const key = fc.constantFrom('a', 'b', 'c')
const num = fc.integer({ min: 0, max: 99 })
const op = fc.oneof(
  fc.record({ t: fc.constant('account.insert' as const), v: num }),
  fc.constant({ t: 'account.clear' as const }),
  fc.record({ t: fc.constant('metadata.insert' as const), k: key, v: num }),
  fc.record({ t: fc.constant('metadata.remove' as const), k: key }),
  fc.constant({ t: 'metadata.clear' as const }),
  fc.record({ t: fc.constant('events.push' as const), v: num }),
  fc.constant({ t: 'events.pop' as const }),
  fc.record({ t: fc.constant('events.remove' as const), i: fc.nat(5) }),
  fc.record({ t: fc.constant('history.push' as const), k: key, v: num }),
  fc.record({ t: fc.constant('history.remove' as const), k: key, i: fc.nat(3) }),
  fc.record({ t: fc.constant('history.clearKey' as const), k: key }),
  fc.record({ t: fc.constant('children.insert' as const), k: key, v: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ t: fc.constant('children.remove' as const), k: key, v: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ t: fc.constant('children.createKey' as const), k: key }),
  fc.record({ t: fc.constant('shares.insert' as const), k: key, k2: key, v: num }),
  fc.record({ t: fc.constant('shares.remove' as const), k: key, k2: key }),
  fc.constant({ t: 'shares.clear' as const }),
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

const openCore = () => openDb(Core)

function run(db: Awaited<ReturnType<typeof openCore>>, o: Op): void {
  switch (o.t) {
    case 'account.insert':
      db.account.insert({ n: o.v })
      return
    case 'account.clear':
      db.account.clear()
      return
    case 'metadata.insert':
      db.metadata.insert(o.k, { n: o.v })
      return
    case 'metadata.remove':
      db.metadata.remove(o.k)
      return
    case 'metadata.clear':
      db.metadata.clear()
      return
    case 'events.push':
      db.events.push(o.v)
      return
    case 'events.pop':
      if (db.events.length > 0) db.events.pop()
      return
    case 'events.remove':
      if (o.i < db.events.length) db.events.remove(o.i)
      return
    case 'history.push':
      db.history.push(o.k, o.v)
      return
    case 'history.remove':
      if (o.i < (db.history.get(o.k)?.length ?? 0)) db.history.remove(o.k, o.i)
      return
    case 'history.clearKey':
      db.history.clearKey(o.k)
      return
    case 'children.insert':
      db.children.insert(o.k, o.v)
      return
    case 'children.remove':
      db.children.remove(o.k, o.v)
      return
    case 'children.createKey':
      db.children.createKey(o.k)
      return
    case 'shares.insert':
      db.shares.insert(o.k, o.k2, { n: o.v })
      return
    case 'shares.remove':
      db.shares.remove(o.k, o.k2)
      return
    case 'shares.clear':
      db.shares.clear()
      return
  }
}

describe('folding changes()', () => {
  it('over an empty table reproduces the final state of every table kind', async () => {
    const seed = Number(process.env.HOMEDB_SEED ?? 20261124)
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 6 }), abort: fc.boolean() }), {
          maxLength: 40,
        }),
        async (txs) => {
          const db = await openDb(Core)
          const folded = new Map<string, unknown>()
          for (const name of ['account', 'metadata', 'events', 'history', 'children', 'shares'] as const) {
            folded.set(name, emptyStateOf(db[name].kind))
            changes(db[name]).subscribe((e) => {
              for (const c of e.changes) folded.set(name, applyChange(db[name].kind, folded.get(name), c))
            })
          }
          for (const tx of txs) {
            try {
              db.transactionSync(() => {
                for (const o of tx.ops) run(db, o)
                if (tx.abort) throw new Error('abort')
              })
            } catch (error) {
              if ((error as Error).message !== 'abort') throw error
            }
          }
          expect(folded.get('account')).toEqual(db.account.get())
          for (const name of ['metadata', 'events', 'history', 'children', 'shares'] as const) {
            expect(folded.get(name), name).toEqual(plain(db[name].data))
          }
          await db.close()
        },
      ),
      { seed, numRuns: 150 },
    )
  })
})
