// No container a read hands out can change the db: arrays are frozen snapshots, Maps and Sets are read-only views
// (issue 12, point 1: a `reverse()` on a returned array used to make the db unopenable or silently different).
import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { list, lookupList, lookupMap, lookupSet, lookupTable, openDb, schema } from '../src/index.js'
import { dump } from './support/dump.js'

const S = schema({
  meta: lookupTable<string, { n: number }>(),
  events: list<string>(),
  history: lookupList<string, string>(),
  children: lookupSet<string, string>(),
  shares: lookupMap<string, string, { n: number }>(),
})

async function filled(dir = tempDir('tables')) {
  const db = await openDb(S, { dir })
  db.meta.insert('a', { n: 1 })
  db.events.push('create')
  db.events.push('edit')
  db.history.push('f', 'create')
  db.history.push('f', 'edit')
  db.children.insert('root', 'f')
  db.shares.insert('f', 'bob', { n: 1 })
  return { db, dir }
}

/** Every in-place change an array allows, each expected to throw. */
const arrayAttacks: [string, (a: unknown[]) => unknown][] = [
  ['push', (a) => a.push('ghost')],
  ['pop', (a) => a.pop()],
  ['shift', (a) => a.shift()],
  ['unshift', (a) => a.unshift('ghost')],
  ['splice', (a) => a.splice(0, 1)],
  ['sort', (a) => a.sort()],
  ['reverse', (a) => a.reverse()],
  ['fill', (a) => a.fill('x')],
  ['copyWithin', (a) => a.copyWithin(0, 1)],
  ['index write', (a) => (a[0] = 'x')],
  ['length write', (a) => (a.length = 0)],
  ['defineProperty', (a) => Object.defineProperty(a, 0, { value: 'x' })],
]

/** Every way to change a Map through what a read returned, cast included. */
const mapAttacks: [string, (m: ReadonlyMap<unknown, unknown>) => unknown][] = [
  ['set', (m) => (m as Map<unknown, unknown>).set('ghost', { n: 9 })],
  ['delete', (m) => (m as Map<unknown, unknown>).delete([...m.keys()][0])],
  ['clear', (m) => (m as Map<unknown, unknown>).clear()],
  ['Map.prototype.set', (m) => Map.prototype.set.call(m, 'ghost', 1)],
  ['Map.prototype.clear', (m) => Map.prototype.clear.call(m)],
  [
    'forEach third argument',
    (m) =>
      m.forEach((_v, _k, map) => {
        ;(map as Map<unknown, unknown>).clear()
      }),
  ],
]

/** Every way to change a Set through what a read returned, cast included. */
const setAttacks: [string, (s: ReadonlySet<unknown>) => unknown][] = [
  ['add', (s) => (s as Set<unknown>).add('ghost')],
  ['delete', (s) => (s as Set<unknown>).delete([...s][0])],
  ['clear', (s) => (s as Set<unknown>).clear()],
  ['Set.prototype.add', (s) => Set.prototype.add.call(s, 'ghost')],
  ['Set.prototype.clear', (s) => Set.prototype.clear.call(s)],
  [
    'forEach third argument',
    (s) =>
      s.forEach((_v, _v2, set) => {
        ;(set as Set<unknown>).clear()
      }),
  ],
]

/** Runs `attack` (which must throw a TypeError), then checks memory still equals a reopen of the log. */
async function refused(db: Awaited<ReturnType<typeof filled>>['db'], dir: string, attack: () => unknown) {
  const before = dump(db)
  expect(attack).toThrow(TypeError)
  expect(dump(db)).toEqual(before)
  await db.close()
  const again = await openDb(S, { dir })
  expect(dump(again)).toEqual(before)
  await again.close()
}

describe('arrays handed out are frozen snapshots', () => {
  it.each(arrayAttacks)('list.data refuses %s', async (_, attack) => {
    const { db, dir } = await filled()
    await refused(db, dir, () => attack(db.events.data as unknown[]))
  })

  it.each(arrayAttacks)('a lookupList list refuses %s', async (_, attack) => {
    const { db, dir } = await filled()
    await refused(db, dir, () => attack(db.history.get('f') as unknown[]))
  })

  it.each(arrayAttacks)('a list reached through lookupList.data or iteration refuses %s', async (_, attack) => {
    const { db, dir } = await filled()
    await refused(db, dir, () => attack(db.history.data.get('f') as unknown[]))
    const again = await openDb(S, { dir })
    const viaIterator = [...again.history][0]![1]
    await refused(again, dir, () => attack(viaIterator as unknown[]))
  })

  it('keeps a handed-out array unchanged by later writes, and the table copies it only once', async () => {
    const { db } = await filled()
    const events = db.events.data
    const history = db.history.get('f')!
    expect(db.events.data).toBe(events) // no write since: the same array
    db.events.push('rename')
    db.history.push('f', 'rename')
    db.history.remove('f', 0)
    expect(events).toEqual(['create', 'edit'])
    expect(history).toEqual(['create', 'edit'])
    expect(db.events.data).toEqual(['create', 'edit', 'rename'])
    expect(db.history.get('f')).toEqual(['edit', 'rename'])
    expect(Object.isFrozen(db.events.data)).toBe(true)
    await db.close()
  })

  it('hands out the previous list of a clear frozen, and rolls a clear back to a list that copies on write', async () => {
    const { db } = await filled()
    const previous: unknown[] = []
    db.onCommit(({ changes }) => {
      for (const c of changes.events ?? []) if (c.op === 'clear') previous.push(c.previous)
    })
    db.events.clear()
    expect(previous).toEqual([['create', 'edit']])
    expect(Object.isFrozen(previous[0])).toBe(true)
    db.events.push('a')
    expect(() =>
      db.transactionSync(() => {
        db.events.clear()
        throw new Error('roll back')
      }),
    ).toThrow('roll back')
    db.events.push('b')
    expect(db.events.data).toEqual(['a', 'b'])
    await db.close()
  })
})

describe('maps and sets handed out are read-only views', () => {
  it.each(mapAttacks)('lookupTable.data refuses %s', async (_, attack) => {
    const { db, dir } = await filled()
    await refused(db, dir, () => attack(db.meta.data))
  })

  it.each(mapAttacks)('a lookupMap inner map refuses %s', async (_, attack) => {
    const { db, dir } = await filled()
    await refused(db, dir, () => attack(db.shares.get('f')!))
  })

  it.each(mapAttacks)('the data of lookupList, lookupSet and lookupMap refuses %s', async (_, attack) => {
    for (const table of ['history', 'children', 'shares'] as const) {
      const { db, dir } = await filled()
      await refused(db, dir, () => attack(db[table].data))
    }
  })

  it.each(setAttacks)('a lookupSet set refuses %s', async (_, attack) => {
    const { db, dir } = await filled()
    await refused(db, dir, () => attack(db.children.get('root')!))
    const again = await openDb(S, { dir })
    await refused(again, dir, () => attack(again.children.data.get('root')!))
  })

  it('views follow later writes, keep their identity, and are not Map or Set instances', async () => {
    const { db } = await filled()
    const children = db.children.get('root')!
    const data = db.meta.data
    db.children.insert('root', 'g')
    db.meta.insert('b', { n: 2 })
    expect([...children]).toEqual(['f', 'g'])
    expect(children.size).toBe(2)
    expect(db.children.get('root')).toBe(children)
    expect(data.get('b')).toEqual({ n: 2 })
    expect([...data.keys()]).toEqual(['a', 'b'])
    expect([...data.values()]).toEqual([{ n: 1 }, { n: 2 }])
    expect(children).not.toBeInstanceOf(Set)
    expect(data).not.toBeInstanceOf(Map)
    expect(Object.prototype.toString.call(children)).toBe('[object ReadonlySet]')
    expect(Object.prototype.toString.call(data)).toBe('[object ReadonlyMap]')
    const seen: unknown[] = []
    data.forEach((value, key, map) => {
      seen.push([key, value, map === data])
    })
    expect(seen).toEqual([
      ['a', { n: 1 }, true],
      ['b', { n: 2 }, true],
    ])
    await db.close()
  })

  it('gives no way to reach the container behind a view', async () => {
    const { db } = await filled()
    for (const view of [db.meta.data, db.children.get('root')!, db.shares.get('f')!, db.history.data] as object[]) {
      expect(Object.getOwnPropertyNames(view)).toEqual([])
      expect(Object.getOwnPropertySymbols(view)).toEqual([])
      expect(Object.isFrozen(view)).toBe(true) // shared by every reader: nobody can deface it for the others
      expect(() => Object.setPrototypeOf(view, null)).toThrow(TypeError)
    }
    await db.close()
  })
})

describe('commit events hold no live containers and are frozen', () => {
  it('freezes the event, its per-table arrays and its change records', async () => {
    const { db, dir } = await filled()
    const events: unknown[] = []
    db.onCommit((e) => events.push(e))
    db.transactionSync(() => {
      db.meta.insert('b', { n: 2 })
      db.meta.insert('c', { n: 3 })
      db.history.push('f', 'x')
    })
    const [event] = events as { changes: Record<string, unknown[]> }[]
    expect(Object.isFrozen(event)).toBe(true)
    expect(Object.isFrozen(event!.changes)).toBe(true)
    expect(Object.isFrozen(event!.changes.meta)).toBe(true)
    expect(Object.isFrozen(event!.changes.meta![0])).toBe(true)
    await refused(db, dir, () => (event!.changes.meta as unknown[]).reverse())
  })

  it('hands out what a clear or clearKey removed as read-only views, also to the next listener', async () => {
    const { db, dir } = await filled()
    const previous: unknown[] = []
    db.onCommit(({ changes }) => {
      for (const c of changes.children ?? []) if ('previous' in c) previous.push(c.previous)
      for (const c of changes.shares ?? []) if ('previous' in c) previous.push(c.previous)
    })
    let second: unknown
    db.onCommit(({ changes }) => {
      second ??= changes.children?.[0]
    })
    db.children.clearKey('root')
    db.shares.clear()
    const [set, map] = previous as [ReadonlySet<string>, ReadonlyMap<string, ReadonlyMap<string, unknown>>]
    expect([...set]).toEqual(['f'])
    expect(second).toMatchObject({ op: 'clearKey', key: 'root' })
    expect(() => (set as Set<string>).add('ghost')).toThrow(TypeError)
    expect(() => (map as Map<string, unknown>).clear()).toThrow(TypeError)
    await refused(db, dir, () => (map.get('f') as Map<string, unknown>).set('x', 1))
  })
})
