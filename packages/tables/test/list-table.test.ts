import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, list, openDb, schema, TablesInputError } from '../src/index.js'

const S = schema({ events: list<{ what: string }>() })
type Event = CommitEvent<(typeof S)['tables']>

describe('list', () => {
  it('pushes values and returns their index', async () => {
    const db = await openDb(S)
    expect(db.events.push({ what: 'a' })).toBe(0)
    expect(db.events.push({ what: 'b' })).toBe(1)
    expect(db.events.length).toBe(2)
    expect(db.events.get(1)).toEqual({ what: 'b' })
    expect(db.events.get(2)).toBeUndefined()
    expect([...db.events]).toEqual([{ what: 'a' }, { what: 'b' }])
    expect(db.events.data).toBe(db.events.data)
  })

  it('pops the last value and removes at an index, shifting later values down', async () => {
    const db = await openDb(S)
    for (const what of ['a', 'b', 'c', 'd']) db.events.push({ what })
    expect(db.events.pop()).toEqual({ what: 'd' })
    expect(db.events.remove(0)).toEqual({ what: 'a' })
    expect(db.events.data).toEqual([{ what: 'b' }, { what: 'c' }])
  })

  it.each([
    ['pop on an empty list', (db: { events: { pop(): unknown } }) => db.events.pop()],
    ['remove(-1)', (db: { events: { remove(i: number): unknown } }) => db.events.remove(-1)],
    ['remove(length)', (db: { events: { remove(i: number): unknown } }) => db.events.remove(1)],
    ['remove(0.5)', (db: { events: { remove(i: number): unknown } }) => db.events.remove(0.5)],
    ['remove(NaN)', (db: { events: { remove(i: number): unknown } }) => db.events.remove(Number.NaN)],
    ['remove("0")', (db: { events: { remove(i: number): unknown } }) => db.events.remove('0' as never)],
  ])('throws TABLES_OUT_OF_RANGE for %s and changes nothing', async (name, action) => {
    const db = await openDb(S)
    if (name !== 'pop on an empty list') db.events.push({ what: 'a' })
    const before = [...db.events.data]
    const seq = db.seq
    expect(() => action(db as never)).toThrow(TablesInputError)
    try {
      action(db as never)
    } catch (e) {
      expect(e).toMatchObject({ code: 'TABLES_OUT_OF_RANGE', context: { table: 'events' } })
    }
    expect(db.events.data).toEqual(before)
    expect(db.seq).toBe(seq)
  })

  it('emits push, remove (also for pop) and clear changes', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    const a = { what: 'a' }
    const b = { what: 'b' }
    db.events.push(a)
    db.events.push(b)
    db.events.pop()
    db.events.remove(0)
    db.events.push(a)
    const old = db.events.data
    db.events.clear()
    expect(events.map((e) => e.changes.events)).toEqual([
      [{ op: 'push', index: 0, value: a }],
      [{ op: 'push', index: 1, value: b }],
      [{ op: 'remove', index: 1, previous: b }],
      [{ op: 'remove', index: 0, previous: a }],
      [{ op: 'push', index: 0, value: a }],
      [{ op: 'clear', previous: [a] }],
    ])
    expect((events[5]!.changes.events![0] as { previous: unknown }).previous).toBe(old)
    expect(db.events.data).not.toBe(old)
  })

  it('replays pushes, removes and clears at reopen', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    for (let i = 0; i < 30; i++) db.events.push({ what: String(i) })
    db.events.remove(10)
    db.events.pop()
    db.events.remove(0)
    const expected = [...db.events.data]
    await db.close()
    const again = await openDb(S, { dir })
    expect(again.events.data).toEqual(expected)
    again.events.clear()
    again.events.push({ what: 'fresh' })
    await again.close()
    const third = await openDb(S, { dir })
    expect(third.events.data).toEqual([{ what: 'fresh' }])
    await third.close()
  })
})
