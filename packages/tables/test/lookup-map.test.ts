import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, lookupMap, openDb, schema, TablesInputError } from '../src/index.js'

const S = schema({ shares: lookupMap<string, string, { mode: string }>() })
type Event = CommitEvent<(typeof S)['tables']>

describe('lookupMap', () => {
  it('inserts under two keys, reads a key map or one value, and removes', async () => {
    const db = await openDb(S)
    const r = { mode: 'r' }
    expect(db.shares.insert('d', 'bob', r)).toBeUndefined()
    expect(db.shares.insert('d', 'bob', { mode: 'w' })).toBe(r)
    db.shares.insert('d', 'amy', r)
    expect(db.shares.get('d', 'amy')).toBe(r)
    expect(db.shares.get('d', 'zed')).toBeUndefined()
    expect(db.shares.get('x', 'bob')).toBeUndefined()
    expect([...db.shares.get('d')!]).toEqual([
      ['bob', { mode: 'w' }],
      ['amy', r],
    ])
    expect(db.shares.has('d')).toBe(true)
    expect(db.shares.has('d', 'amy')).toBe(true)
    expect(db.shares.remove('d', 'amy')).toBe(r)
    expect(db.shares.remove('d', 'amy')).toBeUndefined()
    expect(db.seq).toBe(4)
  })

  it('creates and clears keys', async () => {
    const db = await openDb(S)
    expect(db.shares.createKey('a')).toBe(true)
    expect(db.shares.createKey('a')).toBe(false)
    db.shares.insert('a', 'b', { mode: 'r' })
    expect([...db.shares.clearKey('a')!]).toEqual([['b', { mode: 'r' }]])
    expect(db.shares.clearKey('a')).toBeUndefined()
    expect(db.shares.size).toBe(0)
  })

  it('refuses a bad second key and changes nothing', async () => {
    const db = await openDb(S)
    expect(() => db.shares.insert('a', null as never, { mode: 'r' })).toThrow(TablesInputError)
    try {
      db.shares.insert('a', null as never, { mode: 'r' })
    } catch (e) {
      expect(e).toMatchObject({ code: 'TABLES_INVALID_KEY', context: { table: 'shares', key2: null } })
    }
    expect(db.shares.size).toBe(0)
  })

  it('emits every change shape', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    const a = { mode: 'a' }
    const b = { mode: 'b' }
    db.shares.insert('k', 'x', a)
    db.shares.insert('k', 'x', b)
    db.shares.remove('k', 'x')
    db.shares.createKey('j')
    const inner = db.shares.get('k')
    db.shares.clearKey('k')
    const map = db.shares.data
    db.shares.clear()
    expect(events.map((e) => e.changes.shares)).toEqual([
      [
        { op: 'createKey', key: 'k' },
        { op: 'set', key: 'k', key2: 'x', value: a, previous: undefined },
      ],
      [{ op: 'set', key: 'k', key2: 'x', value: b, previous: a }],
      [{ op: 'remove', key: 'k', key2: 'x', previous: b }],
      [{ op: 'createKey', key: 'j' }],
      [{ op: 'clearKey', key: 'k', previous: inner }],
      [{ op: 'clear', previous: map }],
    ])
  })

  it('replays at reopen', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.shares.insert('a', 'x', { mode: '1' })
    db.shares.insert('a', 'y', { mode: '2' })
    db.shares.insert('b', 'x', { mode: '3' })
    db.shares.remove('a', 'x')
    db.shares.createKey('c')
    db.shares.clearKey('b')
    await db.close()
    const again = await openDb(S, { dir })
    expect([...again.shares].map(([k, m]) => [k, [...m]])).toEqual([
      ['a', [['y', { mode: '2' }]]],
      ['c', []],
    ])
    await again.close()
  })
})
