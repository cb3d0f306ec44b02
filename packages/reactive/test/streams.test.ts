// Emission shapes and batching of every stream for every table kind, ordering, completion on close, error
// isolation, and the behaviour of subscribing, unsubscribing and writing from inside callbacks.
import { list, lookupList, lookupMap, lookupSet, lookupTable, openDb, schema, single } from '@homedb/tables'
import { bufferTime, config, filter, firstValueFrom, map, Subject, switchMap, take, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { changes, commits, keyState, state } from '../src/index.js'

interface Meta {
  name: string
  size: number
}

const Core = schema({
  account: single<{ user: string }>(),
  metadata: lookupTable<string, Meta>(),
  events: list<string>(),
  history: lookupList<string, number>(),
  children: lookupSet<string, string>(),
  shares: lookupMap<string, string, { mode: string }>(),
})

const open = () => openDb(Core)

afterEach(() => {
  config.onUnhandledError = null
})

describe('changes()', () => {
  it('emits once per transaction that touched the table, with every change in order', async () => {
    const db = await open()
    const seen: unknown[] = []
    changes(db.metadata).subscribe((e) => seen.push(e))
    await db.transaction(() => {
      for (let i = 0; i < 10; i++) db.metadata.insert('k', { name: `v${i}`, size: i })
      db.events.push('other table')
    })
    db.events.push('not this table')
    db.metadata.remove('k')
    expect(seen).toHaveLength(2)
    const first = seen[0] as { seq: number; changes: { op: string; previous?: Meta; value: Meta }[] }
    expect(first.seq).toBe(1)
    expect(first.changes).toHaveLength(10)
    expect(first.changes[0]).toEqual({ op: 'set', key: 'k', value: { name: 'v0', size: 0 }, previous: undefined })
    expect(first.changes[9]).toMatchObject({ op: 'set', value: { size: 9 }, previous: { size: 8 } })
    expect(seen[1]).toEqual({ seq: 3, changes: [{ op: 'remove', key: 'k', previous: { name: 'v9', size: 9 } }] })
    await db.close()
  })

  it('gives each table kind its own change shapes', async () => {
    const db = await open()
    const all: Record<string, unknown[]> = {}
    for (const name of ['account', 'metadata', 'events', 'history', 'children', 'shares'] as const) {
      all[name] = []
      changes(db[name]).subscribe((e) => all[name]!.push(...e.changes))
    }
    db.account.insert({ user: 'ann' })
    db.account.clear()
    db.events.push('a')
    db.events.push('b')
    db.events.pop()
    db.history.push('h', 1)
    db.history.remove('h', 0)
    db.children.insert('p', 'c1')
    db.children.remove('p', 'c1')
    db.shares.insert('f', 'bob', { mode: 'r' })
    db.shares.remove('f', 'bob')
    db.shares.clearKey('f')
    expect(all.account).toEqual([
      { op: 'set', value: { user: 'ann' }, previous: undefined },
      { op: 'clear', previous: { user: 'ann' } },
    ])
    expect(all.events).toEqual([
      { op: 'push', index: 0, value: 'a' },
      { op: 'push', index: 1, value: 'b' },
      { op: 'remove', index: 1, previous: 'b' },
    ])
    expect(all.history).toEqual([
      { op: 'createKey', key: 'h' },
      { op: 'push', key: 'h', index: 0, value: 1 },
      { op: 'remove', key: 'h', index: 0, previous: 1 },
    ])
    expect(all.children).toEqual([
      { op: 'createKey', key: 'p' },
      { op: 'insert', key: 'p', value: 'c1' },
      { op: 'remove', key: 'p', value: 'c1' },
    ])
    expect(all.shares?.map((c) => (c as { op: string }).op)).toEqual(['createKey', 'set', 'remove', 'clearKey'])
    expect(all.metadata).toEqual([])
    await db.close()
  })

  it('emits nothing for a rolled-back transaction', async () => {
    const db = await open()
    const seen: unknown[] = []
    changes(db.metadata).subscribe((e) => seen.push(e))
    expect(() =>
      db.transactionSync(() => {
        db.metadata.insert('x', { name: 'x', size: 1 })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(seen).toEqual([])
    expect(db.metadata.size).toBe(0)
    await db.close()
  })

  it('keeps commit order under interleaved writes from many async tasks', async () => {
    const db = await open()
    const seqs: number[] = []
    const keys: string[] = []
    changes(db.metadata).subscribe((e) => {
      seqs.push(e.seq)
      for (const c of e.changes) if (c.op === 'set') keys.push(c.key)
    })
    await Promise.all(
      Array.from({ length: 20 }, async (_, task) => {
        for (let i = 0; i < 25; i++) {
          await db.transaction(() => db.metadata.insert(`${task}-${i}`, { name: 't', size: i }))
          if (i % 3 === task % 3) await new Promise((r) => setImmediate(r))
        }
      }),
    )
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
    expect(new Set(keys).size).toBe(500)
    for (let task = 0; task < 20; task++) {
      const mine = keys.filter((k) => k.startsWith(`${task}-`)).map((k) => Number(k.split('-')[1]))
      expect(mine).toEqual(Array.from({ length: 25 }, (_, i) => i))
    }
    await db.close()
  })
})

describe('state()', () => {
  it('emits the current state on subscribe, then a new view after each commit that touched the table', async () => {
    const db = await open()
    db.metadata.insert('a', { name: 'a', size: 1 })
    const views: { seq: number; size: number; reset: boolean }[] = []
    const raw: unknown[] = []
    state(db.metadata).subscribe((v) => {
      raw.push(v)
      views.push({ seq: v.seq, size: v.data.size, reset: v.reset })
    })
    db.events.push('unrelated')
    db.metadata.insert('b', { name: 'b', size: 2 })
    expect(views).toEqual([
      { seq: 1, size: 1, reset: false },
      { seq: 3, size: 2, reset: false },
    ])
    expect(raw[0]).not.toBe(raw[1])
    expect((raw[1] as { data: unknown }).data).toBe(db.metadata.data)
    await db.close()
  })

  it('gives a single table its value', async () => {
    const db = await open()
    const values: unknown[] = []
    state(db.account).subscribe((v) => values.push(v.data))
    db.account.insert({ user: 'zoe' })
    db.account.clear()
    expect(values).toEqual([undefined, { user: 'zoe' }, undefined])
    await db.close()
  })
})

describe('keyState()', () => {
  it('emits the value on subscribe and then only when that key changes', async () => {
    const db = await open()
    const values: (Meta | undefined)[] = []
    keyState(db.metadata, 'a').subscribe((v) => values.push(v))
    db.metadata.insert('b', { name: 'b', size: 1 })
    db.metadata.insert('a', { name: 'a', size: 1 })
    db.metadata.insert('b', { name: 'b', size: 2 })
    await db.transaction(() => {
      db.metadata.insert('a', { name: 'a', size: 2 })
      db.metadata.insert('a', { name: 'a', size: 3 })
    })
    db.metadata.clear()
    expect(values).toEqual([undefined, { name: 'a', size: 1 }, { name: 'a', size: 3 }, undefined])
    await db.close()
  })

  it('works for lookupList, lookupSet and lookupMap keys', async () => {
    const db = await open()
    const lists: unknown[] = []
    const sets: unknown[] = []
    const maps: unknown[] = []
    keyState(db.history, 'h').subscribe((v) => lists.push(v ? [...v] : v))
    keyState(db.children, 'p').subscribe((v) => sets.push(v ? [...v] : v))
    keyState(db.shares, 'f').subscribe((v) => maps.push(v ? [...v.keys()] : v))
    db.history.push('h', 1)
    db.history.push('other', 1)
    db.children.insert('p', 'c')
    db.shares.insert('f', 'bob', { mode: 'r' })
    db.shares.clearKey('f')
    expect(lists).toEqual([undefined, [1]])
    expect(sets).toEqual([undefined, ['c']])
    expect(maps).toEqual([undefined, ['bob'], undefined])
    await db.close()
  })
})

describe('commits()', () => {
  it('emits every commit with changes by table', async () => {
    const db = await open()
    const events = firstValueFrom(commits(db).pipe(take(2), toArray()))
    db.metadata.insert('a', { name: 'a', size: 1 })
    await db.transaction(() => {
      db.events.push('e')
      db.children.insert('p', 'c')
    })
    const [one, two] = await events
    expect(one?.seq).toBe(1)
    expect(Object.keys(one!.changes)).toEqual(['metadata'])
    expect(Object.keys(two!.changes).sort()).toEqual(['children', 'events'])
    await db.close()
  })
})

describe('lifecycle and isolation', () => {
  it('completes every stream when the db closes, and completes at once after', async () => {
    const db = await open()
    const completed: string[] = []
    const done = (name: string) => ({ complete: () => completed.push(name) })
    changes(db.metadata).subscribe(done('changes'))
    state(db.events).subscribe(done('state'))
    keyState(db.metadata, 'k').subscribe(done('keyState'))
    commits(db).subscribe(done('commits'))
    await db.close()
    expect(completed.sort()).toEqual(['changes', 'commits', 'keyState', 'state'])
    changes(db.metadata).subscribe(done('late'))
    expect(completed).toContain('late')
  })

  it('isolates a throwing subscriber: the commit stands, others still get it, the error goes to onUnhandledError', async () => {
    const db = await open()
    const reported: unknown[] = []
    config.onUnhandledError = (error) => reported.push(error)
    const seen: number[] = []
    changes(db.metadata).subscribe(() => {
      throw new Error('subscriber bug')
    })
    changes(db.metadata).subscribe((e) => seen.push(e.seq))
    db.metadata.insert('a', { name: 'a', size: 1 })
    db.metadata.insert('b', { name: 'b', size: 1 })
    await db.sync()
    await new Promise((r) => setTimeout(r, 0))
    expect(seen).toEqual([1, 2])
    expect(db.metadata.size).toBe(2)
    expect(reported).toHaveLength(2)
    expect((reported[0] as Error).message).toBe('subscriber bug')
    await db.close()
  })

  it('delivers a commit made from inside a subscriber after the current one, to everyone, in seq order', async () => {
    const db = await open()
    const a: number[] = []
    const b: number[] = []
    changes(db.metadata).subscribe((e) => {
      a.push(e.seq)
      if (e.seq === 1) db.metadata.insert('from-subscriber', { name: 'x', size: 0 })
    })
    changes(db.metadata).subscribe((e) => b.push(e.seq))
    db.metadata.insert('a', { name: 'a', size: 1 })
    expect(a).toEqual([1, 2])
    expect(b).toEqual([1, 2])
    await db.close()
  })

  it('lets a subscriber unsubscribe itself inside its callback', async () => {
    const db = await open()
    const seen: number[] = []
    const sub = changes(db.metadata).subscribe((e) => {
      seen.push(e.seq)
      sub.unsubscribe()
    })
    db.metadata.insert('a', { name: 'a', size: 1 })
    db.metadata.insert('b', { name: 'b', size: 1 })
    expect(seen).toEqual([1])
    await db.close()
  })

  it('subscribing inside a transaction sees the state so far, then the commit', async () => {
    const db = await open()
    const views: number[] = []
    await db.transaction(() => {
      db.metadata.insert('a', { name: 'a', size: 1 })
      state(db.metadata).subscribe((v) => views.push(v.data.size))
      db.metadata.insert('b', { name: 'b', size: 1 })
    })
    expect(views).toEqual([1, 2])
    await db.close()
  })

  it('composes with the user’s operators', async () => {
    const db = await open()
    const sizes = firstValueFrom(
      changes(db.metadata).pipe(
        filter((e) => e.changes.some((c) => c.op === 'set')),
        map((e) => e.changes.length),
        bufferTime(5),
        filter((batch) => batch.length > 0),
        take(1),
      ),
    )
    db.metadata.insert('a', { name: 'a', size: 1 })
    await db.transaction(() => {
      db.metadata.insert('b', { name: 'b', size: 1 })
      db.metadata.insert('c', { name: 'c', size: 1 })
    })
    expect(await sizes).toEqual([1, 2])
    const keys = new Subject<string>()
    const latest: (Meta | undefined)[] = []
    keys.pipe(switchMap((k) => keyState(db.metadata, k))).subscribe((v) => latest.push(v))
    keys.next('a')
    keys.next('zzz')
    db.metadata.insert('a', { name: 'a', size: 9 })
    expect(latest).toEqual([{ name: 'a', size: 1 }, undefined])
    await db.close()
  })
})
