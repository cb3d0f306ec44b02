import { describe, expect, it } from 'vitest'
import { type CommitEvent, list, lookupTable, openDb, schema, single } from '../src/index.js'

const S = schema({
  account: single<{ name: string }>(),
  meta: lookupTable<string, number>(),
  events: list<string>(),
})
type Event = CommitEvent<(typeof S)['tables']>

describe('onCommit', () => {
  it('delivers one event per transaction with only the touched tables, changes in order', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    await db.transaction(() => {
      db.meta.insert('a', 1)
      db.events.push('x')
      db.meta.insert('a', 2)
    })
    expect(events).toEqual([
      {
        seq: 1,
        changes: {
          meta: [
            { op: 'set', key: 'a', value: 1, previous: undefined },
            { op: 'set', key: 'a', value: 2, previous: 1 },
          ],
          events: [{ op: 'push', index: 0, value: 'x' }],
        },
      },
    ])
    expect(Object.keys(events[0]!.changes)).toEqual(['meta', 'events'])
  })

  it('fires synchronously at the in-memory commit, in seq order', async () => {
    const db = await openDb(S)
    const seqs: number[] = []
    db.onCommit((e) => seqs.push(e.seq))
    db.meta.insert('a', 1)
    expect(seqs).toEqual([1])
    db.transaction(() => db.meta.insert('b', 2))
    expect(seqs).toEqual([1, 2])
    db.meta.insert('c', 3)
    expect(seqs).toEqual([1, 2, 3])
  })

  it('sends nothing for a rolled-back transaction or a refused mutation', async () => {
    const db = await openDb(S)
    const events: Event[] = []
    db.onCommit((e) => events.push(e))
    expect(() =>
      db.transactionSync(() => {
        db.meta.insert('a', 1)
        throw new Error('no')
      }),
    ).toThrow('no')
    expect(() => db.events.pop()).toThrow()
    expect(events).toEqual([])
  })

  it('keeps seq order for every listener when a listener commits while being called', async () => {
    const db = await openDb(S)
    const first: number[] = []
    const second: number[] = []
    db.onCommit((e) => {
      first.push(e.seq)
      if (e.seq === 1) db.events.push('from listener')
    })
    db.onCommit((e) => second.push(e.seq))
    db.meta.insert('a', 1)
    expect(first).toEqual([1, 2])
    expect(second).toEqual([1, 2])
    expect(db.seq).toBe(2)
  })

  it('unsubscribes with the returned function', async () => {
    const db = await openDb(S)
    let calls = 0
    const off = db.onCommit(() => calls++)
    db.meta.insert('a', 1)
    off()
    off()
    db.meta.insert('b', 1)
    expect(calls).toBe(1)
  })

  it('reports a throwing listener without affecting the commit or the other listeners', async () => {
    const errors: unknown[] = []
    const db = await openDb(S, { onListenerError: (e) => errors.push(e) })
    const boom = new Error('listener')
    let other = 0
    db.onCommit(() => {
      throw boom
    })
    db.onCommit(() => other++)
    expect(db.meta.insert('a', 1)).toBeUndefined()
    expect(db.meta.get('a')).toBe(1)
    expect(other).toBe(1)
    expect(errors).toEqual([boom])
  })

  it('calls onClose listeners once the db has closed', async () => {
    const db = await openDb(S)
    const calls: boolean[] = []
    db.onClose(() => calls.push(db.closed))
    const off = db.onClose(() => calls.push(false))
    off()
    await db.close()
    await db.close()
    expect(calls).toEqual([true])
  })

  it('costs nothing measurable when nobody listens', async () => {
    // Same mutations with no listener, and with a listener added then removed: the commit path must not build
    // events when the listener list is empty. Compared by time, generously, to stay robust on slow machines.
    const time = async (withListener: boolean) => {
      const db = await openDb(S)
      if (withListener) db.onCommit(() => {})()
      const start = performance.now()
      for (let i = 0; i < 20_000; i++) db.meta.insert(`k${i & 1023}`, i)
      const ms = performance.now() - start
      await db.close()
      return ms
    }
    await time(false)
    const a = Math.min(await time(false), await time(false))
    const b = Math.min(await time(true), await time(true))
    expect(b).toBeLessThan(a * 2 + 5)
  })
})
