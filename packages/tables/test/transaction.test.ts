// Both transaction forms: transactionSync (result at once, throws) and transaction (promise settling once durable,
// rejects and never throws), their rollback, and every nesting of one inside the other.
import { dirBytes, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  schema,
  single,
  TablesTransactionError,
} from '../src/index.js'
import { dump } from './support/dump.js'

const S = schema({
  one: single<{ n: number }>(),
  map: lookupTable<string, { n: number }>(),
  items: list<number>(),
  lists: lookupList<string, number>(),
  sets: lookupSet<string, number>(),
  maps: lookupMap<string, string, number>(),
})

async function seeded(dir?: string) {
  const db = await openDb(S, dir === undefined ? {} : { dir })
  db.one.insert({ n: 1 })
  db.map.insert('a', { n: 1 })
  db.map.insert('b', { n: 2 })
  db.items.push(1)
  db.items.push(2)
  db.lists.push('a', 1)
  db.sets.insert('a', 1)
  db.maps.insert('a', 'x', 1)
  return db
}

/** Touches every table with every kind of mutation. */
function mutateEverything(db: Awaited<ReturnType<typeof seeded>>): void {
  db.one.insert({ n: 9 })
  db.one.clear()
  db.map.insert('a', { n: 10 })
  db.map.insert('c', { n: 3 })
  db.map.remove('b')
  db.items.push(3)
  db.items.remove(0)
  db.items.pop()
  db.lists.push('a', 2)
  db.lists.push('new', 5)
  db.lists.remove('a', 0)
  db.lists.createKey('k')
  db.lists.clearKey('a')
  db.sets.insert('a', 2)
  db.sets.remove('a', 1)
  db.sets.insert('n', 1)
  db.sets.createKey('k')
  db.sets.clearKey('a')
  db.maps.insert('a', 'y', 2)
  db.maps.insert('a', 'x', 3)
  db.maps.remove('a', 'x')
  db.maps.insert('n', 'z', 1)
  db.maps.createKey('k')
  db.maps.clearKey('a')
  db.map.clear()
  db.items.clear()
  db.lists.clear()
  db.sets.clear()
  db.maps.clear()
}

/** The two forms, each run to an outcome: `fn`'s result, or the error it failed with (thrown or rejected). */
type Outcome = { ok: unknown } | { error: unknown }
type Db = Awaited<ReturnType<typeof seeded>>
const forms: [string, (db: Db, fn: () => unknown) => Promise<Outcome>][] = [
  [
    'transactionSync',
    async (db, fn) => {
      try {
        return { ok: db.transactionSync(fn) }
      } catch (error) {
        return { error }
      }
    },
  ],
  [
    'transaction',
    async (db, fn) => {
      let promise: Promise<unknown> | undefined
      expect(() => {
        promise = db.transaction(fn)
      }).not.toThrow()
      expect(promise).toBeInstanceOf(Promise)
      return promise!.then(
        (ok) => ({ ok }),
        (error: unknown) => ({ error }),
      )
    },
  ],
]

describe.each(forms)('%s', (_, run) => {
  it('writes all its mutations as one commit and gives back the result', async () => {
    const dir = tempDir('tables')
    const db = await seeded(dir)
    const seq = db.seq
    const outcome = await run(db, () => {
      db.map.insert('t', { n: 1 })
      db.items.push(7)
      return 'done'
    })
    expect(outcome).toEqual({ ok: 'done' })
    expect(db.seq).toBe(seq + 1)
    const expected = dump(db)
    await db.close()
    const again = await openDb(S, { dir })
    expect(again.seq).toBe(seq + 1)
    expect(dump(again)).toEqual(expected)
    await again.close()
  })

  it('sees its own writes while running', async () => {
    const db = await seeded()
    const outcome = await run(db, () => {
      db.map.insert('t', { n: 1 })
      return [db.map.get('t'), db.items.push(3)]
    })
    expect(outcome).toEqual({ ok: [{ n: 1 }, 2] })
  })

  it('rolls back every kind of mutation and fails with the error when the function throws', async () => {
    const dir = tempDir('tables')
    const db = await seeded(dir)
    await db.sync()
    const before = dump(db)
    const bytes = dirBytes(dir)
    const seq = db.seq
    const boom = new Error('boom')
    const outcome = await run(db, () => {
      mutateEverything(db)
      throw boom
    })
    expect(outcome).toEqual({ error: boom })
    // content is restored; keyed tables may list restored keys in another order (see README), so compare sorted
    expect(sorted(dump(db))).toEqual(sorted(before))
    expect(db.seq).toBe(seq)
    await db.sync()
    expect(dirBytes(dir)).toEqual(bytes)
    await db.close()
    const again = await openDb(S, { dir })
    expect(dump(again)).toEqual(before)
    await again.close()
  })

  it('restores lists and list positions exactly after a rollback', async () => {
    const db = await seeded()
    for (let i = 3; i < 10; i++) db.items.push(i)
    const before = [...db.items.data]
    const outcome = await run(db, () => {
      db.items.remove(3)
      db.items.remove(0)
      db.items.push(100)
      db.items.remove(5)
      db.items.pop()
      throw new Error('x')
    })
    expect(outcome).toEqual({ error: new Error('x') })
    expect(db.items.data).toEqual(before)
  })

  it('refuses an async function: rolls back and fails with TABLES_ASYNC_TRANSACTION', async () => {
    const db = await seeded()
    const before = dump(db)
    const outcome = await run(db, async () => {
      db.items.push(5)
    })
    expect(outcome).toEqual({ error: expect.any(TablesTransactionError) })
    expect(outcome).toMatchObject({ error: { code: 'TABLES_ASYNC_TRANSACTION' } })
    expect(dump(db)).toEqual(before)
  })

  it('refuses a function returning a thenable', async () => {
    const db = await seeded()
    const before = dump(db)
    const seq = db.seq
    const outcome = await run(db, () => {
      db.map.insert('z', { n: 0 })
      // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is exactly what is tested
      return { then: (resolve: (v: number) => void) => resolve(1) }
    })
    expect(outcome).toMatchObject({ error: { code: 'TABLES_ASYNC_TRANSACTION' } })
    expect(dump(db)).toEqual(before)
    expect(db.seq).toBe(seq)
  })

  it('commits nothing for a transaction without mutations, and still gives back the result', async () => {
    const db = await seeded()
    const seq = db.seq
    let events = 0
    db.onCommit(() => events++)
    expect(await run(db, () => db.map.get('a'))).toEqual({ ok: { n: 1 } })
    expect(db.seq).toBe(seq)
    expect(events).toBe(0)
  })

  it('lets a caught validation error inside the function leave the transaction usable', async () => {
    const db = await seeded()
    const outcome = await run(db, () => {
      expect(() => db.items.remove(99)).toThrow()
      return db.items.push(3)
    })
    expect(outcome).toEqual({ ok: 2 })
    expect(db.items.data).toEqual([1, 2, 3])
  })

  it('fails with TABLES_CLOSED on a closed db', async () => {
    const db = await seeded()
    await db.close()
    expect(await run(db, () => 1)).toMatchObject({ error: { code: 'TABLES_CLOSED' } })
  })

  it('fails with a TypeError when given something other than a function', async () => {
    const db = await seeded()
    expect(await run(db, 42 as never)).toEqual({ error: expect.any(TypeError) })
  })
})

describe('transactionSync', () => {
  it('returns before the commit is durable; sync() makes it durable', async () => {
    const dir = tempDir('tables')
    const db = await seeded(dir)
    await db.sync()
    const durable: number[] = []
    db.onDurable(({ seq }) => durable.push(seq))
    const index = db.transactionSync(() => db.items.push(42))
    expect(index).toBe(2)
    expect(durable).toEqual([])
    await db.sync()
    expect(durable).toEqual([db.seq])
    await db.close()
  })
})

describe('transaction', () => {
  it('resolves only once the commit is durable', async () => {
    const dir = tempDir('tables')
    const db = await seeded(dir)
    const durable: number[] = []
    db.onDurable(({ seq }) => durable.push(seq))
    const promise = db.transaction(() => db.items.push(42))
    const seq = db.seq
    expect(durable).toEqual([])
    expect(await promise).toBe(2)
    expect(durable).toEqual([seq])
    await db.close()
  })

  it('hands a failed function to .catch(), never throwing past it', async () => {
    const db = await seeded()
    const boom = new Error('boom')
    const caught = await db
      .transaction(() => {
        db.items.push(5)
        throw boom
      })
      .catch((error: unknown) => error)
    expect(caught).toBe(boom)
    expect(db.items.data).toEqual([1, 2])
  })
})

/** Both forms inside both forms: a nested call joins, and gives back its result itself. */
const nestings = forms.flatMap(([outer]) => forms.map(([inner]) => [outer, inner] as const))
const call = (db: Db, form: string, fn: () => unknown): unknown =>
  form === 'transaction' ? db.transaction(fn) : db.transactionSync(fn)

describe.each(nestings)('%s around %s', (outerForm, innerForm) => {
  const outer = forms.find(([name]) => name === outerForm)![1]

  it('joins the outer transaction as one commit and returns its result directly', async () => {
    const db = await seeded()
    const seq = db.seq
    let events = 0
    db.onCommit(() => events++)
    const outcome = await outer(db, () => {
      const folder = call(db, innerForm, () => db.items.push(10))
      expect(folder).toBe(2) // the result itself, not a promise: usable in the rest of the batch
      db.lists.push(`folder-${String(folder)}`, 11)
      return folder
    })
    expect(outcome).toEqual({ ok: 2 })
    expect(db.seq).toBe(seq + 1)
    expect(events).toBe(1)
    expect(db.lists.get('folder-2')).toEqual([11])
  })

  it('rolls the whole transaction back when a nested call throws, even if the outer function catches it', async () => {
    const db = await seeded()
    const before = dump(db)
    const boom = new Error('inner')
    const outcome = await outer(db, () => {
      db.items.push(10)
      try {
        call(db, innerForm, () => {
          db.items.push(11)
          throw boom
        })
      } catch (error) {
        expect(error).toBe(boom) // thrown at once inside the outer function, never a rejected promise
      }
      expect(() => db.items.push(12)).toThrow(expect.objectContaining({ code: 'TABLES_TRANSACTION_ABORTED' }))
    })
    expect(outcome).toEqual({ error: boom })
    expect(dump(db)).toEqual(before)
  })

  it('rolls back what a nested call did when the outer function throws afterwards', async () => {
    const db = await seeded()
    const before = dump(db)
    const outcome = await outer(db, () => {
      call(db, innerForm, () => db.items.push(1))
      throw new Error('outer')
    })
    expect(outcome).toEqual({ error: new Error('outer') })
    expect(dump(db)).toEqual(before)
  })
})

/** The dump with keyed tables' entries sorted by key, for order-insensitive comparison. */
function sorted(d: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, v] of Object.entries(d)) {
    if (name === 'items' || name === 'one') out[name] = v
    else
      out[name] = [...(v as [unknown, unknown][])]
        .map(([k, inner]) => [k, Array.isArray(inner) && name !== 'lists' ? [...inner].sort() : inner])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])))
  }
  return out
}
