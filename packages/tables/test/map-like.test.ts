// Keyed tables read like Maps (keys, values, entries, size, iteration, forEach), and the write intents besides
// insert's upsert: update (must exist) and insertIfAbsent (must not).
import { plain, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  schema,
  single,
  TablesInputError,
} from '../src/index.js'

interface File {
  name: string
  size: number
}
const S = schema({
  account: single<{ plan: string }>(),
  files: lookupTable<string, File>(),
  history: lookupList<string, string>(),
  children: lookupSet<string, string>(),
  shares: lookupMap<string, string, { mode: string }>(),
})

async function filled() {
  const dir = tempDir('tables')
  const db = await openDb(S, { dir })
  db.files.insert('b', { name: 'b.md', size: 2 })
  db.files.insert('a', { name: 'a.md', size: 1 })
  db.history.push('b', 'created')
  db.history.push('a', 'created')
  db.children.insert('root', 'b')
  db.children.insert('docs', 'a')
  db.shares.insert('b', 'bob', { mode: 'read' })
  db.shares.insert('a', 'eve', { mode: 'write' })
  return { db, dir }
}

describe('Map-like reads on every keyed table', () => {
  it.each(['files', 'history', 'children', 'shares'] as const)(
    '%s has keys, values, entries, size, iteration and forEach, in insertion order',
    async (name) => {
      const { db } = await filled()
      const table = db[name] as unknown as {
        size: number
        keys(): Iterable<string>
        values(): Iterable<unknown>
        entries(): Iterable<[string, unknown]>
        forEach(cb: (value: unknown, key: string) => void): void
        [Symbol.iterator](): Iterator<[string, unknown]>
      }
      const expectedKeys = name === 'children' ? ['root', 'docs'] : ['b', 'a']
      expect(table.size).toBe(2)
      expect([...table.keys()]).toEqual(expectedKeys)
      const entries = [...table.entries()]
      expect(entries.map(([k]) => k)).toEqual(expectedKeys)
      expect(plain([...table])).toEqual(plain(entries))
      expect(plain([...table.values()])).toEqual(plain(entries.map(([, v]) => v)))
      const seen: [string, unknown][] = []
      table.forEach((value, key) => {
        seen.push([key, value])
      })
      expect(plain(seen)).toEqual(plain(entries))
      await db.close()
    },
  )

  it('hands out values in their read-only forms through values() and entries()', async () => {
    const { db } = await filled()
    const [list] = [...db.history.values()]
    const [[, set]] = [...db.children.entries()] as [[string, ReadonlySet<string>]]
    expect(Object.isFrozen(list)).toBe(true)
    expect(set).not.toBeInstanceOf(Set)
    expect(() => (set as Set<string>).add('ghost')).toThrow(TypeError)
    await db.close()
  })
})

describe('update', () => {
  it('replaces a lookupTable value with fn(current) and returns the stored value', async () => {
    const { db, dir } = await filled()
    const stored = db.files.update('a', (file) => ({ ...file, name: 'renamed.md' }))
    expect(stored).toEqual({ name: 'renamed.md', size: 1 })
    expect(db.files.get('a')).toBe(stored)
    expect([...db.files.keys()]).toEqual(['b', 'a']) // an update keeps the key's place
    await db.close()
    const again = await openDb(S, { dir })
    expect(again.files.get('a')).toEqual({ name: 'renamed.md', size: 1 })
    await again.close()
  })

  it('updates a lookupMap entry and the single value', async () => {
    const { db } = await filled()
    expect(db.shares.update('a', 'eve', (s) => ({ ...s, mode: 'read' }))).toEqual({ mode: 'read' })
    db.account.insert({ plan: 'free' })
    expect(db.account.update((a) => ({ ...a, plan: 'pro' }))).toEqual({ plan: 'pro' })
    await db.close()
  })

  it('throws TABLES_NOT_FOUND naming the table and key when there is nothing to update, and writes nothing', async () => {
    const { db } = await filled()
    const seq = db.seq
    const calls: unknown[] = []
    const seen = <T>(value: T): T => {
      calls.push(value)
      return value
    }
    const attempts: [() => unknown, Record<string, unknown>][] = [
      [() => db.files.update('zz', seen), { table: 'files', key: 'zz' }],
      [() => db.shares.update('a', 'nobody', seen), { table: 'shares', key: 'a', key2: 'nobody' }],
      [() => db.account.update(seen), { table: 'account' }],
    ]
    for (const [attempt, context] of attempts) {
      let error: unknown
      try {
        attempt()
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(TablesInputError)
      expect(error).toMatchObject({ code: 'TABLES_NOT_FOUND', context })
      expect((error as Error).message).toContain(`table "${context.table}"`)
    }
    expect(calls).toEqual([])
    expect(db.seq).toBe(seq)
    await db.close()
  })

  it('changes nothing when fn throws or returns a value that cannot be stored', async () => {
    const { db } = await filled()
    const seq = db.seq
    expect(() =>
      db.files.update('a', () => {
        throw new Error('no')
      }),
    ).toThrow('no')
    expect(() => db.files.update('a', () => ({ name: 'x', size: () => 1 }) as never)).toThrow(
      expect.objectContaining({ code: 'TABLES_INVALID_VALUE' }),
    )
    expect(db.files.get('a')).toEqual({ name: 'a.md', size: 1 })
    expect(db.seq).toBe(seq)
    await db.close()
  })
})

describe('insertIfAbsent', () => {
  it('inserts only when the key holds nothing, and says whether it did', async () => {
    const { db } = await filled()
    const seq = db.seq
    const mine = { name: 'mine.md', size: 9 }
    expect(db.files.insertIfAbsent('a', mine)).toBe(false)
    expect(Object.isFrozen(mine)).toBe(false) // not inserted: not touched
    expect(db.seq).toBe(seq)
    expect(db.files.insertIfAbsent('c', mine)).toBe(true)
    expect(db.files.get('c')).toEqual(mine)
    expect(db.shares.insertIfAbsent('a', 'eve', { mode: 'read' })).toBe(false)
    expect(db.shares.insertIfAbsent('a', 'joe', { mode: 'read' })).toBe(true)
    expect(db.shares.get('a', 'eve')).toEqual({ mode: 'write' })
    expect(db.seq).toBe(seq + 2)
    await db.close()
  })

  it('refuses a bad key, and a bad value for an absent key, changing nothing', async () => {
    const { db } = await filled()
    const seq = db.seq
    expect(() => db.files.insertIfAbsent({} as never, { name: 'x', size: 1 })).toThrow(
      expect.objectContaining({ code: 'TABLES_INVALID_KEY' }),
    )
    expect(() => db.files.insertIfAbsent('new', { name: 'x', size: Symbol() } as never)).toThrow(
      expect.objectContaining({ code: 'TABLES_INVALID_VALUE' }),
    )
    expect(db.files.has('new')).toBe(false)
    expect(db.seq).toBe(seq)
    await db.close()
  })

  it('insert replaces: it is an upsert, recorded as a set with the previous value', async () => {
    const { db } = await filled()
    const changes: unknown[] = []
    db.onCommit((e) => changes.push(...(e.changes.files ?? [])))
    expect(db.files.insert('a', { name: 'other.md', size: 5 })).toEqual({ name: 'a.md', size: 1 })
    expect(changes).toEqual([
      { op: 'set', key: 'a', value: { name: 'other.md', size: 5 }, previous: { name: 'a.md', size: 1 } },
    ])
    await db.close()
  })
})
