import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, lookupTable, openDb, schema, TablesInputError } from '../src/index.js'

const S = schema({ meta: lookupTable<string | number, { size: number }>() })
type Event = CommitEvent<(typeof S)['tables']>

describe('lookupTable', () => {
  it('inserts, reads, replaces and removes values by key', async () => {
    const db = await openDb(S)
    const a = { size: 1 }
    expect(db.meta.insert('a', a)).toBeUndefined()
    expect(db.meta.get('a')).toBe(a)
    expect(db.meta.has('a')).toBe(true)
    expect(db.meta.has('b')).toBe(false)
    expect(db.meta.size).toBe(1)
    expect(db.meta.insert('a', { size: 2 })).toBe(a)
    expect(db.meta.remove('a')).toEqual({ size: 2 })
    expect(db.meta.remove('a')).toBeUndefined()
    expect(db.meta.size).toBe(0)
    expect(db.seq).toBe(3)
  })

  it('keeps string and number keys apart', async () => {
    const db = await openDb(S)
    db.meta.insert(1, { size: 1 })
    db.meta.insert('1', { size: 2 })
    expect(db.meta.get(1)).toEqual({ size: 1 })
    expect(db.meta.get('1')).toEqual({ size: 2 })
    expect(db.meta.size).toBe(2)
  })

  it('exposes a live read-only view of its map as data and iterates [key, value] in insertion order', async () => {
    const db = await openDb(S)
    db.meta.insert('b', { size: 2 })
    const data = db.meta.data
    db.meta.insert('a', { size: 1 })
    expect(db.meta.data).toBe(data)
    expect(data).not.toBeInstanceOf(Map)
    expect([...data.keys()]).toEqual(['b', 'a'])
    expect(data.get('a')).toEqual({ size: 1 })
    expect([...db.meta]).toEqual([
      ['b', { size: 2 }],
      ['a', { size: 1 }],
    ])
  })

  it('clears by swapping in a new map and hands the old one out as previous', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    db.meta.insert('a', { size: 1 })
    const before = db.meta.data
    db.meta.clear()
    expect(db.meta.size).toBe(0)
    expect(db.meta.data).not.toBe(before)
    expect(before.get('a')).toEqual({ size: 1 })
    expect(events[1]).toEqual({ seq: 2, changes: { meta: [{ op: 'clear', previous: before }] } })
    expect((events[1]!.changes.meta![0] as { previous: unknown }).previous).toBe(before)
    db.meta.clear()
    expect(db.seq).toBe(2)
  })

  it('emits set and remove changes with old and new values', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    const a = { size: 1 }
    const b = { size: 2 }
    db.meta.insert('k', a)
    db.meta.insert('k', b)
    db.meta.remove('k')
    expect(events.map((e) => e.changes.meta)).toEqual([
      [{ op: 'set', key: 'k', value: a, previous: undefined }],
      [{ op: 'set', key: 'k', value: b, previous: a }],
      [{ op: 'remove', key: 'k', previous: b }],
    ])
  })

  it('replays its contents and order at reopen', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    for (let i = 0; i < 50; i++) db.meta.insert(`k${i % 17}`, { size: i })
    db.meta.remove('k3')
    db.meta.insert(5, { size: -1 })
    const expected = [...db.meta]
    await db.close()
    const again = await openDb(S, { dir })
    expect([...again.meta]).toEqual(expected)
    await again.close()
  })

  it('normalises the key -0 to 0 like a Map does', async () => {
    const db = await openDb(S)
    db.meta.insert(-0, { size: 1 })
    expect(db.meta.get(0)).toEqual({ size: 1 })
    expect(Object.is([...db.meta.data.keys()][0], 0)).toBe(true)
  })

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an object', {}],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['a bigint', 1n],
    ['a symbol', Symbol('k')],
    ['a lone surrogate', '\ud800'],
  ])('refuses %s as a key and changes nothing', async (_, key) => {
    const db = await openDb(S)
    db.meta.insert('a', { size: 1 })
    const error = (() => {
      try {
        db.meta.insert(key as never, { size: 2 })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(TablesInputError)
    expect(error).toMatchObject({ code: 'TABLES_INVALID_KEY', context: { table: 'meta' } })
    expect(() => db.meta.remove(key as never)).toThrow(TablesInputError)
    expect([...db.meta]).toEqual([['a', { size: 1 }]])
    expect(db.seq).toBe(1)
  })

  it.each([
    [undefined, 'key undefined is undefined, not a string or a finite number', 'undefined'],
    [null, 'key null is null, not a string or a finite number', 'null'],
    [{ id: 1 }, 'key [object Object] is an instance of Object, not a string or a finite number', 'object'],
    [Number.NaN, 'key NaN is not a finite number', 'number'],
  ])('names the table, the key and its type when it refuses the key %s', async (key, message, keyType) => {
    const db = await openDb(S)
    expect(() => db.meta.insert(key as never, { size: 1 })).toThrow(`table "meta": ${message}`)
    expect(() => db.meta.insert(key as never, { size: 1 })).toThrow(
      expect.objectContaining({ context: expect.objectContaining({ table: 'meta', keyType }) }),
    )
  })
})
