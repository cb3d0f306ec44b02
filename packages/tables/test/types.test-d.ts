import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  type CommitEvent,
  type Db,
  type DeepReadonly,
  type InferDb,
  type Insertable,
  type Key,
  type LookupTableChange,
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  schema,
  single,
} from '../src/index.js'

interface Account {
  name: string
  emails: string[]
}
interface FileMeta {
  size: number
  tags: string[]
  owner: { id: string }
}
interface Share {
  mode: 'read' | 'write'
}

const Core = schema({
  account: single<Account>(),
  metadata: lookupTable<string, FileMeta>(),
  events: list<{ at: number }>(),
  history: lookupList<string, number>(),
  children: lookupSet<string, string>(),
  shares: lookupMap<string, number, Share>(),
})
declare const db: Db<(typeof Core)['tables']>

describe('schema inference', () => {
  it('openDb returns a db with the schema tables', () => {
    expectTypeOf(openDb(Core)).resolves.toEqualTypeOf<Db<(typeof Core)['tables']>>()
    expectTypeOf(db).toHaveProperty('account')
    expectTypeOf(db).toHaveProperty('metadata')
    expectTypeOf(db).toHaveProperty('seq').toEqualTypeOf<number>()
    // @ts-expect-error not a table of this schema
    db.nope
  })

  it('gives each table its own key and value types', () => {
    expectTypeOf(db.account.get()).toEqualTypeOf<DeepReadonly<Account> | undefined>()
    expectTypeOf(db.metadata.get).parameter(0).toEqualTypeOf<string>()
    expectTypeOf(db.metadata.get('a')).toEqualTypeOf<DeepReadonly<FileMeta> | undefined>()
    expectTypeOf(db.metadata.data).toEqualTypeOf<ReadonlyMap<string, DeepReadonly<FileMeta>>>()
    expectTypeOf(db.events.push({ at: 1 })).toEqualTypeOf<number>()
    expectTypeOf(db.history.get('k')).toEqualTypeOf<readonly number[] | undefined>()
    expectTypeOf(db.children.insert('k', 'v')).toEqualTypeOf<boolean>()
    expectTypeOf(db.children.get('k')).toEqualTypeOf<ReadonlySet<string> | undefined>()
    expectTypeOf(db.shares.get('k')).toEqualTypeOf<ReadonlyMap<number, DeepReadonly<Share>> | undefined>()
    expectTypeOf(db.shares.get('k', 1)).toEqualTypeOf<DeepReadonly<Share> | undefined>()
    for (const entry of db.metadata) expectTypeOf(entry).toEqualTypeOf<[string, DeepReadonly<FileMeta>]>()
  })

  it('rejects wrong keys and values at compile time', () => {
    // @ts-expect-error key must be a string
    db.metadata.insert(1, { size: 1, tags: [], owner: { id: 'x' } })
    // @ts-expect-error value is missing fields
    db.metadata.insert('a', { size: 1 })
    // @ts-expect-error wrong value type
    db.account.insert({ name: 1, emails: [] })
    // @ts-expect-error list value type
    db.events.push({ at: 'now' })
    // @ts-expect-error lookupList value type
    db.history.push('k', 'not a number')
    // @ts-expect-error lookupSet member type
    db.children.insert('k', 1)
    // @ts-expect-error lookupMap second key type
    db.shares.insert('k', 'not a number', { mode: 'read' })
    // @ts-expect-error lookupMap value type
    db.shares.insert('k', 1, { mode: 'admin' })
    // @ts-expect-error list index must be a number
    db.events.remove('0')
  })

  it('only allows string or number keys in definitions', () => {
    // @ts-expect-error object keys are not allowed
    lookupTable<{ id: string }, number>()
    // @ts-expect-error lookupSet members must be keys
    lookupSet<string, { id: string }>()
  })

  it('types stored values as deeply readonly', () => {
    const meta = db.metadata.get('a')!
    // @ts-expect-error readonly property
    meta.size = 2
    // @ts-expect-error readonly array
    meta.tags.push('x')
    // @ts-expect-error readonly nested object
    meta.owner.id = 'y'
    // @ts-expect-error readonly data map
    db.metadata.data.set('a', meta)
    // @ts-expect-error readonly list data
    db.events.data.push({ at: 1 })
  })

  it('accepts a readonly value read back from the db for insertion', () => {
    const meta = db.metadata.get('a')!
    db.metadata.insert('b', meta)
    db.metadata.insert('c', { ...meta, size: 2 })
  })

  it('makes an async transaction function a type error', () => {
    expectTypeOf(db.transaction(() => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(db.transaction(() => {})).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error transactions are synchronous
    db.transaction(async () => 1)
    // @ts-expect-error returning a promise is refused too
    db.transaction(() => Promise.resolve(1))
    // @ts-expect-error the same for transactionSync
    db.transactionSync(async () => 1)
    // @ts-expect-error the same for transactionSync
    db.transactionSync(() => Promise.resolve(1))
  })

  it('types transactionSync as the function result, at any nesting', () => {
    expectTypeOf(db.transactionSync(() => 'id')).toEqualTypeOf<string>()
    expectTypeOf(db.transactionSync(() => {})).toEqualTypeOf<void>()
    const outer = db.transactionSync(() => {
      const folder = db.transactionSync(() => db.events.push({ at: 1 }))
      expectTypeOf(folder).toEqualTypeOf<number>()
      return { folder }
    })
    expectTypeOf(outer).toEqualTypeOf<{ folder: number }>()
    // transaction() around it: a promise of the outer result
    expectTypeOf(db.transaction(() => db.transactionSync(() => 'x'))).toEqualTypeOf<Promise<string>>()
  })

  it('types durable events like commit events', () => {
    db.onDurable((event) => expectTypeOf(event).toEqualTypeOf<CommitEvent<(typeof Core)['tables']>>())
    expectTypeOf(db.onDurable(() => {})).toEqualTypeOf<() => void>()
  })

  it('names the db type from the schema or its tables', () => {
    expectTypeOf<Db<typeof Core>>().toEqualTypeOf<Db<(typeof Core)['tables']>>()
    expectTypeOf<InferDb<typeof Core>>().toEqualTypeOf<Db<typeof Core>>()
    expectTypeOf(openDb(Core)).resolves.toEqualTypeOf<InferDb<typeof Core>>()
    // A table named "tables" does not confuse Db: a table definitions object is taken as such.
    const Odd = schema({ tables: lookupTable<string, number>() })
    expectTypeOf<Db<typeof Odd>['tables']>().toEqualTypeOf<Db<(typeof Odd)['tables']>['tables']>()
    expectTypeOf<Db<(typeof Odd)['tables']>['tables']['get']>().returns.toEqualTypeOf<number | undefined>()
  })

  it('types the Map-like reads and the update intents', () => {
    expectTypeOf([...db.metadata.keys()]).toEqualTypeOf<string[]>()
    expectTypeOf([...db.metadata.values()]).toEqualTypeOf<DeepReadonly<FileMeta>[]>()
    expectTypeOf([...db.history.entries()]).toEqualTypeOf<[string, readonly number[]][]>()
    expectTypeOf([...db.children.values()]).toEqualTypeOf<ReadonlySet<string>[]>()
    expectTypeOf([...db.shares.keys()]).toEqualTypeOf<string[]>()
    db.shares.forEach((inner, key) => {
      expectTypeOf(inner).toEqualTypeOf<ReadonlyMap<number, DeepReadonly<Share>>>()
      expectTypeOf(key).toEqualTypeOf<string>()
    })
    expectTypeOf(db.metadata.update('a', (m) => ({ ...m, size: 2 }))).toEqualTypeOf<DeepReadonly<FileMeta>>()
    expectTypeOf(db.metadata.insertIfAbsent('a', { size: 1, tags: [], owner: { id: 'o' } })).toEqualTypeOf<boolean>()
    expectTypeOf(db.shares.update('k', 1, () => ({ mode: 'write' }))).toEqualTypeOf<DeepReadonly<Share>>()
    expectTypeOf(db.account.update((a) => a)).toEqualTypeOf<DeepReadonly<Account>>()
    // @ts-expect-error update must return a whole value
    db.metadata.update('a', (m) => ({ size: m.size }))
  })

  it('types commit events per table', () => {
    db.onCommit((event) => {
      expectTypeOf(event).toEqualTypeOf<CommitEvent<(typeof Core)['tables']>>()
      expectTypeOf(event.changes.metadata).toEqualTypeOf<readonly LookupTableChange<string, FileMeta>[] | undefined>()
      for (const change of event.changes.metadata ?? []) {
        if (change.op === 'set') {
          expectTypeOf(change.key).toEqualTypeOf<string>()
          expectTypeOf(change.previous).toEqualTypeOf<DeepReadonly<FileMeta> | undefined>()
        }
      }
      // @ts-expect-error not a table
      event.changes.nope
    })
  })

  it('exposes name, kind and db on table handles', () => {
    expectTypeOf(db.metadata.name).toEqualTypeOf<string>()
    expectTypeOf(db.metadata.kind).toEqualTypeOf<'lookupTable'>()
    expectTypeOf(db.children.kind).toEqualTypeOf<'lookupSet'>()
  })
})

describe('Standard Schema and storable value types', () => {
  const FileSchema = z.object({ name: z.string(), size: z.number() })
  type File = z.infer<typeof FileSchema>

  it('infers a table from its schema and its key check', () => {
    const S = schema({
      files: lookupTable({ key: 'string', schema: FileSchema }),
      byNumber: lookupTable({ key: 'number', schema: v.object({ n: v.number() }) }),
      anyKey: lookupTable({ schema: type({ ok: 'boolean' }) }),
      events: list({ schema: FileSchema }),
      shares: lookupMap({ key: 'string', key2: z.number().int(), schema: FileSchema }),
      one: single({ schema: FileSchema }),
      members: lookupSet({ key: 'string', member: 'number' }),
      loose: lookupSet({}),
    })
    const d = {} as Db<typeof S>
    expectTypeOf(d.files.get).parameter(0).toEqualTypeOf<string>()
    expectTypeOf(d.files.get('a')).toEqualTypeOf<DeepReadonly<File> | undefined>()
    expectTypeOf(d.byNumber.get).parameter(0).toEqualTypeOf<number>()
    expectTypeOf(d.byNumber.get(1)).toEqualTypeOf<{ readonly n: number } | undefined>()
    expectTypeOf(d.anyKey.get).parameter(0).toEqualTypeOf<Key>()
    expectTypeOf(d.anyKey.get('x')).toEqualTypeOf<{ readonly ok: boolean } | undefined>()
    expectTypeOf(d.events.push).parameter(0).toEqualTypeOf<Insertable<File>>()
    expectTypeOf(d.shares.get('a', 1)).toEqualTypeOf<DeepReadonly<File> | undefined>()
    expectTypeOf(d.one.get()).toEqualTypeOf<DeepReadonly<File> | undefined>()
    expectTypeOf(d.members.insert).parameters.toEqualTypeOf<[string, number]>()
    expectTypeOf(d.loose.insert).parameters.toEqualTypeOf<[Key, Key]>()
    // @ts-expect-error the inferred member type is number
    d.members.insert('a', 'b')
    // @ts-expect-error the inferred key type is string
    d.files.insert(42, { name: 'a', size: 1 })
    // @ts-expect-error the inferred value type is the schema's
    d.files.insert('a', { name: 'a', size: 'big' })
  })

  it('checks an explicit value type against the schema', () => {
    lookupTable<string, File>({ schema: FileSchema, key: 'string' })
    // @ts-expect-error the schema's output is not the declared value type
    lookupTable<string, { other: number }>({ schema: FileSchema })
    // @ts-expect-error a number key check on a string-keyed table
    lookupTable<string, File>({ key: 'number' })
  })

  it('refuses value types the db cannot store', () => {
    // @ts-expect-error a function
    single<() => void>()
    // @ts-expect-error a Map
    lookupTable<string, Map<string, number>>()
    // @ts-expect-error a Set inside the value
    list<{ tags: Set<string> }>()
    // @ts-expect-error a method (class instances do not survive a reopen)
    lookupList<string, { at: number; toJSON(): string }>()
    // @ts-expect-error a symbol
    lookupMap<string, string, { s: symbol }>()
    single<{ at: Date; bytes: Uint8Array; tags: readonly string[]; n?: number; big: bigint; nothing: null }>()
    type Json = string | number | boolean | null | Json[] | { [k: string]: Json }
    lookupTable<string, Json>()
    interface Folder {
      name: string
      children: Folder[]
    }
    lookupTable<string, Folder>()
    single<unknown>()
  })
})
