import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { list, lookupMap, lookupTable, openDb, schema, single } from '../src/index.js'

interface Doc {
  title: string
  tags: string[]
  meta: { n: number; at?: Date; bytes?: Uint8Array }
}
const S = schema({
  docs: lookupTable<string, Doc>(),
  one: single<Doc>(),
  log: list<Doc>(),
  shares: lookupMap<string, string, Doc>(),
})
const doc = (): Doc => ({ title: 't', tags: ['a'], meta: { n: 1, at: new Date(5), bytes: new Uint8Array([1]) } })

describe('freeze', () => {
  it('deep-freezes inserted values by default, so in-place mutation throws', async () => {
    const db = await openDb(S)
    const d = doc()
    db.docs.insert('a', d)
    expect(Object.isFrozen(d)).toBe(true)
    expect(Object.isFrozen(d.tags)).toBe(true)
    expect(Object.isFrozen(d.meta)).toBe(true)
    expect(() => {
      ;(d as { title: string }).title = 'changed'
    }).toThrow(TypeError)
    expect(() => d.tags.push('b')).toThrow(TypeError)
    expect(db.docs.get('a')?.title).toBe('t')
  })

  it('freezes a whole value even when a getter in it writes to the db while the value is checked', async () => {
    const db = await openDb(S)
    // Reading `note` (the check does, and the encoder later) tries a refused write and a valid one: each is a check of
    // its own inside the outer one, which must neither freeze the outer value early nor forget what it accepted.
    const value = {
      title: 't',
      tags: ['a'],
      meta: { n: 1 },
      get note() {
        expect(() => db.one.insert({ title: 'bad', tags: [], meta: { n: () => 1 } } as never)).toThrow(
          expect.objectContaining({ code: 'TABLES_INVALID_VALUE' }),
        )
        db.log.push(doc())
        return 'read'
      },
    }
    db.docs.insert('a', value)
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.tags)).toBe(true)
    expect(Object.isFrozen(value.meta)).toBe(true)
    expect(db.log.length).toBeGreaterThan(0)
    await db.close()
  })

  it('freezes values in every table kind', async () => {
    const db = await openDb(S)
    const values = [doc(), doc(), doc()]
    db.one.insert(values[0]!)
    db.log.push(values[1]!)
    db.shares.insert('a', 'b', values[2]!)
    for (const v of values) expect(Object.isFrozen(v.meta)).toBe(true)
  })

  it('leaves typed arrays unfrozen (JavaScript cannot freeze them)', async () => {
    const db = await openDb(S)
    const d = doc()
    db.docs.insert('a', d)
    expect(Object.isFrozen(d.meta.bytes)).toBe(false)
  })

  it('freezes values replayed from the log', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.docs.insert('a', doc())
    db.log.push(doc())
    await db.close()
    const again = await openDb(S, { dir })
    expect(Object.isFrozen(again.docs.get('a'))).toBe(true)
    expect(Object.isFrozen(again.docs.get('a')?.tags)).toBe(true)
    expect(Object.isFrozen(again.log.get(0)?.meta)).toBe(true)
    await again.close()
  })

  it('with freeze: false, stores values without freezing them (still validated)', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir, freeze: false })
    const d = doc()
    db.docs.insert('a', d)
    expect(Object.isFrozen(d)).toBe(false)
    expect(() => db.docs.insert('b', { f: () => 1 } as never)).toThrow(
      expect.objectContaining({ code: 'TABLES_INVALID_VALUE' }),
    )
    await db.close()
    const again = await openDb(S, { dir, freeze: false })
    expect(Object.isFrozen(again.docs.get('a'))).toBe(false)
    await again.close()
  })

  it('with freeze: false, a value mutated into something unencodable before commit rolls back', async () => {
    const db = await openDb(S, { freeze: false })
    const d = doc() as Doc & { bad?: unknown }
    expect(() =>
      db.transactionSync(() => {
        db.docs.insert('a', d)
        d.bad = Symbol('sneaked in after validation')
      }),
    ).toThrow(expect.objectContaining({ code: 'TABLES_INVALID_VALUE' }))
    expect(db.docs.size).toBe(0)
    expect(db.seq).toBe(0)
  })
})
