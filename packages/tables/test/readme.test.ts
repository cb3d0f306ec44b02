// The README's examples, run as written (with a temporary directory instead of ./data/core).
import { describe, expect, it } from 'vitest'
import {
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  schema,
  single,
  TablesError,
} from '../src/index.js'
import { tempDir } from './support/temp-dir.js'

interface Account {
  name: string
  plan: 'free' | 'pro'
}
interface FileMeta {
  name: string
  size: number
  tags: string[]
}
interface DocEvent {
  at: number
  what: string
}
interface Edit {
  at: number
  by: string
}
interface Share {
  mode: 'read' | 'write'
}

const Core = schema({
  account: single<Account>(),
  metadata: lookupTable<string, FileMeta>(),
  events: list<DocEvent>(),
  history: lookupList<string, Edit>(),
  children: lookupSet<string, string>(),
  shares: lookupMap<string, string, Share>(),
})

describe('README examples', () => {
  it('quick start, tables, transactions, events and errors', async () => {
    const db = await openDb(Core, { dir: tempDir() })

    db.account.insert({ name: 'Ada', plan: 'pro' })
    db.metadata.insert('f1', { name: 'notes.md', size: 12, tags: ['work'] })
    await db.transaction(() => {
      db.children.insert('root', 'f1')
      db.events.push({ at: Date.now(), what: 'created f1' })
    })
    expect([db.metadata.get('f1')?.size, db.seq]).toEqual([12, 3])

    const names: string[] = []
    for (const [, meta] of db.metadata) names.push(meta.name)
    const big = [...db.metadata.data.values()].filter((m) => m.size > 1_000_000)
    expect([names, big]).toEqual([['notes.md'], []])

    db.shares.insert('f1', 'bob', { mode: 'read' })
    expect(db.shares.get('f1', 'bob')?.mode).toBe('read')
    expect(db.shares.get('f1')?.size).toBe(1)

    const seen: unknown[] = []
    const off = db.onCommit(({ seq, changes }) => {
      for (const change of changes.metadata ?? []) {
        if (change.op === 'set') seen.push([seq, change.key, change.previous, change.value])
      }
    })
    const index = await db.transaction(() => {
      db.metadata.insert('f2', { name: 'todo.md', size: 3, tags: [] })
      db.children.insert('root', 'f2')
      return db.events.push({ at: 1, what: 'created f2' })
    })
    off()
    expect(index).toBe(1)
    expect(seen).toEqual([[5, 'f2', undefined, { name: 'todo.md', size: 3, tags: [] }]])

    db.events.clear()
    let caught: unknown
    try {
      db.events.pop()
    } catch (e) {
      if (e instanceof TablesError && e.code === 'TABLES_OUT_OF_RANGE') caught = e.context.table
      else throw e
    }
    expect(caught).toBe('events')
    await db.close()
  })
})
