import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, lookupList, openDb, schema, TablesInputError } from '../src/index.js'

const S = schema({ history: lookupList<string, { at: number }>() })
type Event = CommitEvent<(typeof S)['tables']>

describe('lookupList', () => {
  it('pushes to a key (creating it), reads its list and removes by index', async () => {
    const db = await openDb(S)
    expect(db.history.get('d')).toBeUndefined()
    expect(db.history.push('d', { at: 1 })).toBe(0)
    expect(db.history.push('d', { at: 2 })).toBe(1)
    expect(db.history.get('d')).toEqual([{ at: 1 }, { at: 2 }])
    expect(db.history.get('d')).toBe(db.history.get('d'))
    expect(db.history.remove('d', 0)).toEqual({ at: 1 })
    expect(db.history.remove('d', 0)).toEqual({ at: 2 })
    expect(db.history.has('d')).toBe(true)
    expect(db.history.get('d')).toEqual([])
    expect(db.history.size).toBe(1)
  })

  it('creates a key once and clears a key with its list', async () => {
    const db = await openDb(S)
    expect(db.history.createKey('a')).toBe(true)
    expect(db.history.createKey('a')).toBe(false)
    expect(db.seq).toBe(1)
    db.history.push('a', { at: 1 })
    expect(db.history.clearKey('a')).toEqual([{ at: 1 }])
    expect(db.history.has('a')).toBe(false)
    expect(db.history.clearKey('a')).toBeUndefined()
    expect(db.seq).toBe(3)
  })

  it('throws TABLES_OUT_OF_RANGE for a missing key or index and changes nothing', async () => {
    const db = await openDb(S)
    db.history.push('a', { at: 1 })
    for (const [key, index] of [
      ['b', 0],
      ['a', 1],
      ['a', -1],
    ] as const) {
      expect(() => db.history.remove(key, index)).toThrow(TablesInputError)
    }
    expect([...db.history]).toEqual([['a', [{ at: 1 }]]])
    expect(db.seq).toBe(1)
  })

  it('emits createKey before the first push to a key, and every other change shape', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    const v = { at: 1 }
    db.history.push('a', v)
    db.history.push('a', v)
    db.history.remove('a', 1)
    db.history.createKey('b')
    const list = db.history.get('a')
    db.history.clearKey('a')
    const map = db.history.data
    db.history.clear()
    expect(events.map((e) => e.changes.history)).toEqual([
      [
        { op: 'createKey', key: 'a' },
        { op: 'push', key: 'a', index: 0, value: v },
      ],
      [{ op: 'push', key: 'a', index: 1, value: v }],
      [{ op: 'remove', key: 'a', index: 1, previous: v }],
      [{ op: 'createKey', key: 'b' }],
      [{ op: 'clearKey', key: 'a', previous: list }],
      [{ op: 'clear', previous: map }],
    ])
    expect((events[5]!.changes.history![0] as { previous: unknown }).previous).toBe(map)
  })

  it('replays at reopen, keeping empty keys', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.history.push('a', { at: 1 })
    db.history.push('a', { at: 2 })
    db.history.push('b', { at: 3 })
    db.history.remove('a', 0)
    db.history.createKey('empty')
    db.history.remove('b', 0)
    db.history.push('c', { at: 4 })
    db.history.clearKey('c')
    const expected = [...db.history].map(([k, l]) => [k, [...l]])
    await db.close()
    const again = await openDb(S, { dir })
    expect([...again.history].map(([k, l]) => [k, [...l]])).toEqual(expected)
    expect(expected).toEqual([
      ['a', [{ at: 2 }]],
      ['b', []],
      ['empty', []],
    ])
    await again.close()
  })
})
