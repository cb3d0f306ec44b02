import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, openDb, schema, single, TablesInputError } from '../src/index.js'

const S = schema({ account: single<{ name: string; tags?: string[] }>() })

describe('single', () => {
  it('starts empty, stores one value and returns the previous one', async () => {
    const db = await openDb(S)
    expect(db.account.get()).toBeUndefined()
    expect(db.account.insert({ name: 'a' })).toBeUndefined()
    const first = db.account.get()
    expect(first).toEqual({ name: 'a' })
    expect(db.account.insert({ name: 'b' })).toBe(first)
    expect(db.account.get()).toEqual({ name: 'b' })
    expect(db.seq).toBe(2)
  })

  it('returns the stored object itself on every read', async () => {
    const db = await openDb(S)
    const value = { name: 'a' }
    db.account.insert(value)
    expect(db.account.get()).toBe(value)
    expect(db.account.get()).toBe(db.account.get())
  })

  it('clears and returns the previous value; clearing an empty table writes nothing', async () => {
    const db = await openDb(S)
    expect(db.account.clear()).toBeUndefined()
    expect(db.seq).toBe(0)
    db.account.insert({ name: 'a' })
    expect(db.account.clear()).toEqual({ name: 'a' })
    expect(db.account.get()).toBeUndefined()
    expect(db.seq).toBe(2)
  })

  it('emits set and clear changes with old and new values', async () => {
    const db = await openDb(S)
    const events: CommitEvent<(typeof S)['tables']>[] = []
    db.onCommit((e) => events.push(e))
    const a = { name: 'a' }
    const b = { name: 'b' }
    db.account.insert(a)
    db.account.insert(b)
    db.account.clear()
    expect(events).toEqual([
      { seq: 1, changes: { account: [{ op: 'set', value: a, previous: undefined }] } },
      { seq: 2, changes: { account: [{ op: 'set', value: b, previous: a }] } },
      { seq: 3, changes: { account: [{ op: 'clear', previous: b }] } },
    ])
  })

  it('keeps its value across a reopen', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.account.insert({ name: 'a', tags: ['x'] })
    db.account.insert({ name: 'b', tags: ['y', 'z'] })
    await db.close()
    const again = await openDb(S, { dir })
    expect(again.account.get()).toEqual({ name: 'b', tags: ['y', 'z'] })
    expect(again.seq).toBe(2)
    again.account.clear()
    await again.close()
    const third = await openDb(S, { dir })
    expect(third.account.get()).toBeUndefined()
    await third.close()
  })

  it('refuses undefined as the value and changes nothing', async () => {
    const db = await openDb(S)
    db.account.insert({ name: 'a' })
    expect(() => db.account.insert(undefined as never)).toThrow(TablesInputError)
    expect(db.account.get()).toEqual({ name: 'a' })
    expect(db.seq).toBe(1)
  })
})
