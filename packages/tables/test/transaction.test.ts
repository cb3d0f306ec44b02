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
import { dirBytes, tempDir } from './support/temp-dir.js'

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

describe('transaction', () => {
  it('writes all its mutations as one commit and resolves with the result once durable', async () => {
    const dir = tempDir()
    const db = await seeded(dir)
    const seq = db.seq
    const result = await db.transaction(() => {
      db.map.insert('t', { n: 1 })
      db.items.push(7)
      return 'done'
    })
    expect(result).toBe('done')
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
    await db.transaction(() => {
      db.map.insert('t', { n: 1 })
      expect(db.map.get('t')).toEqual({ n: 1 })
      expect(db.items.push(3)).toBe(2)
    })
  })

  it('rolls back every kind of mutation when the function throws, and throws synchronously', async () => {
    const dir = tempDir()
    const db = await seeded(dir)
    await db.sync()
    const before = dump(db)
    const bytes = dirBytes(dir)
    const seq = db.seq
    const boom = new Error('boom')
    expect(() =>
      db.transaction(() => {
        mutateEverything(db)
        throw boom
      }),
    ).toThrow(boom)
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
    expect(() =>
      db.transaction(() => {
        db.items.remove(3)
        db.items.remove(0)
        db.items.push(100)
        db.items.remove(5)
        db.items.pop()
        throw new Error('x')
      }),
    ).toThrow('x')
    expect(db.items.data).toEqual(before)
  })

  it('refuses an async function: rolls back and throws TABLES_ASYNC_TRANSACTION', async () => {
    const db = await seeded()
    const before = dump(db)
    const fn = (async () => {
      db.items.push(5)
    }) as never
    expect(() => db.transaction(fn)).toThrow(TablesTransactionError)
    expect(dump(db)).toEqual(before)
    expect(() => db.transaction(fn)).toThrow(expect.objectContaining({ code: 'TABLES_ASYNC_TRANSACTION' }))
  })

  it('refuses a function returning a thenable', async () => {
    const db = await seeded()
    const before = dump(db)
    const seq = db.seq
    const fn = (() => {
      db.map.insert('z', { n: 0 })
      // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is exactly what is tested
      return { then: (resolve: (v: number) => void) => resolve(1) }
    }) as never
    expect(() => db.transaction(fn)).toThrow(expect.objectContaining({ code: 'TABLES_ASYNC_TRANSACTION' }))
    expect(dump(db)).toEqual(before)
    expect(db.seq).toBe(seq)
  })

  it('lets nested calls join the outer transaction as one commit', async () => {
    const db = await seeded()
    const seq = db.seq
    let events = 0
    db.onCommit(() => events++)
    let inner: Promise<string> | undefined
    const outer = db.transaction(() => {
      db.items.push(10)
      inner = db.transaction(() => {
        db.items.push(11)
        return 'inner'
      })
      db.items.push(12)
      return 'outer'
    })
    expect(db.seq).toBe(seq + 1)
    expect(events).toBe(1)
    expect(await outer).toBe('outer')
    expect(await inner).toBe('inner')
    expect(db.items.data.slice(-3)).toEqual([10, 11, 12])
  })

  it('aborts the whole transaction when a nested call throws, even if the outer function catches it', async () => {
    const db = await seeded()
    const before = dump(db)
    const boom = new Error('inner')
    expect(() =>
      db.transaction(() => {
        db.items.push(10)
        try {
          db.transaction(() => {
            db.items.push(11)
            throw boom
          })
        } catch {
          // swallowed, but the transaction is still aborted
        }
        expect(() => db.items.push(12)).toThrow(expect.objectContaining({ code: 'TABLES_TRANSACTION_ABORTED' }))
      }),
    ).toThrow(boom)
    expect(dump(db)).toEqual(before)
  })

  it('rejects the promise of a nested call whose outer transaction rolled back', async () => {
    const db = await seeded()
    let inner: Promise<unknown> | undefined
    expect(() =>
      db.transaction(() => {
        inner = db.transaction(() => db.items.push(1))
        throw new Error('outer')
      }),
    ).toThrow('outer')
    await expect(inner).rejects.toMatchObject({ code: 'TABLES_TRANSACTION_ABORTED' })
  })

  it('commits nothing for a transaction without mutations, and still resolves', async () => {
    const db = await seeded()
    const seq = db.seq
    let events = 0
    db.onCommit(() => events++)
    expect(await db.transaction(() => db.map.get('a'))).toEqual({ n: 1 })
    expect(db.seq).toBe(seq)
    expect(events).toBe(0)
  })

  it('lets a caught validation error inside the function leave the transaction usable', async () => {
    const db = await seeded()
    await db.transaction(() => {
      expect(() => db.items.remove(99)).toThrow()
      db.items.push(3)
    })
    expect(db.items.data).toEqual([1, 2, 3])
  })

  it('throws TABLES_CLOSED from transaction() on a closed db', async () => {
    const db = await seeded()
    await db.close()
    expect(() => db.transaction(() => 1)).toThrow(expect.objectContaining({ code: 'TABLES_CLOSED' }))
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
