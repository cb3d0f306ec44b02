import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, lookupSet, openDb, schema, TablesInputError } from '../src/index.js'

const S = schema({ children: lookupSet<string, string | number>() })
type Event = CommitEvent<(typeof S)['tables']>

describe('lookupSet', () => {
  it('inserts members once, tests and removes them', async () => {
    const db = await openDb(S)
    expect(db.children.insert('f', 'x')).toBe(true)
    expect(db.children.insert('f', 'x')).toBe(false)
    expect(db.children.insert('f', 1)).toBe(true)
    expect(db.children.has('f', 'x')).toBe(true)
    expect(db.children.has('f', 'y')).toBe(false)
    expect(db.children.has('g', 'x')).toBe(false)
    expect([...db.children.get('f')!]).toEqual(['x', 1])
    expect(db.children.remove('f', 'x')).toBe(true)
    expect(db.children.remove('f', 'x')).toBe(false)
    expect(db.children.remove('g', 'x')).toBe(false)
    expect(db.seq).toBe(3)
  })

  it('creates and clears keys; removing the last member keeps the key', async () => {
    const db = await openDb(S)
    expect(db.children.createKey('a')).toBe(true)
    expect(db.children.createKey('a')).toBe(false)
    db.children.insert('a', 'm')
    db.children.remove('a', 'm')
    expect(db.children.hasKey('a')).toBe(true)
    expect([...db.children.clearKey('a')!]).toEqual([])
    expect(db.children.hasKey('a')).toBe(false)
    expect(db.children.clearKey('a')).toBeUndefined()
  })

  it('refuses members that are not keys and changes nothing', async () => {
    const db = await openDb(S)
    expect(() => db.children.insert('a', { id: 1 } as never)).toThrow(TablesInputError)
    expect(() => db.children.insert('a', Number.NaN)).toThrow(TablesInputError)
    expect(db.children.size).toBe(0)
    expect(db.seq).toBe(0)
  })

  it('emits every change shape', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    db.children.insert('a', 'x')
    db.children.remove('a', 'x')
    db.children.createKey('b')
    const set = db.children.get('a')
    db.children.clearKey('a')
    const map = db.children.data
    db.children.clear()
    expect(events.map((e) => e.changes.children)).toEqual([
      [
        { op: 'createKey', key: 'a' },
        { op: 'insert', key: 'a', value: 'x' },
      ],
      [{ op: 'remove', key: 'a', value: 'x' }],
      [{ op: 'createKey', key: 'b' }],
      [{ op: 'clearKey', key: 'a', previous: set }],
      [{ op: 'clear', previous: map }],
    ])
  })

  it('replays at reopen', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.children.insert('a', 'x')
    db.children.insert('a', 2)
    db.children.insert('b', 'y')
    db.children.remove('a', 'x')
    db.children.createKey('c')
    db.children.clearKey('b')
    await db.close()
    const again = await openDb(S, { dir })
    expect([...again.children].map(([k, s]) => [k, [...s]])).toEqual([
      ['a', [2]],
      ['c', []],
    ])
    await again.close()
  })
})
