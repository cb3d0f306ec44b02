// The README's examples, run as written (with a temporary directory instead of ./data/core).
import { openLog } from '@homedb/log'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  type Db,
  decodeCommitOps,
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  readLogState,
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

  it('typing the db, the update intents, both transaction forms, nesting and durable events', async () => {
    const db: Db<typeof Core> = await openDb(Core, { dir: tempDir() })
    const rename = (d: Db<typeof Core>, id: string, name: string) =>
      d.metadata.update(id, (meta) => ({ ...meta, name }))
    db.metadata.insert('f1', { name: 'notes.md', size: 12, tags: ['work'] })
    expect(rename(db, 'f1', 'renamed.md')).toEqual({ name: 'renamed.md', size: 12, tags: ['work'] })

    expect(db.metadata.insertIfAbsent('f9', { name: 'new.md', size: 0, tags: [] })).toBe(true)
    expect(db.metadata.update('f9', (meta) => ({ ...meta, size: 7 }))).toEqual({ name: 'new.md', size: 7, tags: [] })
    expect([...db.metadata.values()].filter((m) => m.size > 1_000_000)).toEqual([])

    const durable: number[] = []
    db.onDurable(({ seq, changes }) => {
      if (changes.metadata) durable.push(seq)
    })
    const folder = db.transactionSync(() => {
      db.metadata.insert('d1', { name: 'docs', size: 0, tags: [] })
      return 'd1'
    })
    expect(folder).toBe('d1')
    const index = await db.transaction(() => {
      db.metadata.insert('f2', { name: 'todo.md', size: 3, tags: [] })
      db.children.insert(folder, 'f2')
      return db.events.push({ at: 1, what: 'created f2' })
    })
    expect(index).toBe(0)
    expect(durable).toEqual([db.seq - 1, db.seq])

    function createFolder(name: string): string {
      return db.transactionSync(() => {
        const id = `d-${name}`
        db.metadata.insert(id, { name, size: 0, tags: [] })
        return id
      })
    }
    const seq = db.seq
    await db.transaction(() => {
      const id = createFolder('photos')
      db.children.insert(id, 'cat.jpg')
    })
    expect(db.seq).toBe(seq + 1)
    expect(db.children.has('d-photos', 'cat.jpg')).toBe(true)
    await db.close()
  })

  it('validating values and keys with a Standard Schema', async () => {
    const File = z.object({ name: z.string(), size: z.number().int().nonnegative(), tags: z.array(z.string()) })
    const Checked = schema({
      files: lookupTable({ key: 'string', schema: File }),
      children: lookupSet<string, string>({ key: 'string', member: 'string' }),
    })
    const checked = await openDb(Checked)
    let caught: unknown
    try {
      checked.files.insert('f6', JSON.parse('{"name":"f6","size":"big","tags":[]}'))
    } catch (e) {
      caught = e
    }
    expect(caught).toMatchObject({ code: 'TABLES_SCHEMA_REJECTED', context: { table: 'files', key: 'f6' } })
    expect((caught as Error).message).toContain('table "files", key "f6": the schema (zod) rejected the value: $.size:')
    expect(() => checked.children.insert('root', 42 as never)).toThrow(
      "member 42 is a number, but the table's members are strings",
    )
    await checked.close()
  })

  it('reading a log without its schema', async () => {
    const dir = tempDir()
    const db = await openDb(Core, { dir })
    db.metadata.insert('f1', { name: 'notes.md', size: 12, tags: [] })
    db.children.insert('root', 'f1')
    await db.close()
    const lines: unknown[][] = []
    const print = (...args: unknown[]) => lines.push(args)

    const log = await openLog(dir, { readOnly: true })
    const state = await readLogState(log)
    for (const table of state.tables) print(table.name, table.kind, table.size, table.entries({ limit: 5 }))
    for await (const commit of log.read({ from: Math.max(log.start.seq, log.head.seq - 3) })) {
      print(commit.seq, decodeCommitOps(commit.payload))
    }
    await log.close()

    expect(lines).toEqual([
      ['children', 'lookupSet', 1, [{ key: 'root', value: new Set(['f1']) }]],
      ['metadata', 'lookupTable', 1, [{ key: 'f1', value: { name: 'notes.md', size: 12, tags: [] } }]],
      [
        1,
        [
          {
            table: 'metadata',
            kind: 'lookupTable',
            op: 'set',
            key: 'f1',
            value: { name: 'notes.md', size: 12, tags: [] },
          },
        ],
      ],
      [2, [{ table: 'children', kind: 'lookupSet', op: 'insert', key: 'root', member: 'f1' }]],
    ])
  })
})
