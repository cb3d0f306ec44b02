// Run-time validation with any Standard Schema (real zod, valibot and arktype): values are validated before anything
// changes and the schema's output is stored; key checks refuse keys of the wrong kind; asynchronous validators are
// refused; a definition with an unusable option is refused by schema().

import { tempDir } from '@homedb/testkit'
import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  schema,
  single,
  TablesInputError,
  TablesSchemaError,
} from '../src/index.js'
import { dump } from './support/dump.js'

/** The same file shape in each library: a name and a non-negative integer size. */
const libraries = [
  ['zod', z.object({ name: z.string(), size: z.number().int().nonnegative() })],
  ['valibot', v.object({ name: v.string(), size: v.pipe(v.number(), v.integer(), v.minValue(0)) })],
  ['arktype', type({ name: 'string', size: 'number.integer >= 0' })],
] as const

describe.each(libraries)('a %s schema', (_, FileSchema) => {
  const Core = schema({
    files: lookupTable({ key: 'string', schema: FileSchema }),
    events: list({ schema: FileSchema }),
    history: lookupList({ key: 'string', schema: FileSchema }),
    shares: lookupMap({ key: 'string', key2: 'string', schema: FileSchema }),
    account: single({ schema: FileSchema }),
  })

  it('accepts and stores valid values in every kind of table', async () => {
    const dir = tempDir('tables')
    const db = await openDb(Core, { dir })
    db.files.insert('f1', { name: 'a.md', size: 1 })
    db.events.push({ name: 'b.md', size: 2 })
    db.history.push('f1', { name: 'c.md', size: 3 })
    db.shares.insert('f1', 'bob', { name: 'd.md', size: 4 })
    db.account.insert({ name: 'e.md', size: 5 })
    const state = dump(db)
    await db.close()
    const again = await openDb(Core, { dir })
    expect(dump(again)).toEqual(state)
    expect(again.files.get('f1')).toEqual({ name: 'a.md', size: 1 })
    await again.close()
  })

  it('refuses a value the schema rejects with TABLES_SCHEMA_REJECTED carrying its issues, changing nothing', async () => {
    const db = await openDb(Core, { dir: tempDir('tables') })
    db.files.insert('f1', { name: 'a.md', size: 1 })
    const seq = db.seq
    const bad = { name: 'f6.md', size: 'big' }
    let error: unknown
    try {
      db.files.insert('f6', bad as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TablesInputError)
    expect(error).toMatchObject({ code: 'TABLES_SCHEMA_REJECTED', context: { table: 'files', key: 'f6' } })
    const issues = (error as TablesInputError).context.issues!
    expect(issues.length).toBeGreaterThan(0)
    expect(issues.some((i) => i.path?.some((p) => (typeof p === 'object' ? p.key : p) === 'size'))).toBe(true)
    expect((error as Error).message).toContain('table "files", key "f6"')
    expect((error as Error).message).toContain('$.size')
    expect(Object.isFrozen(bad)).toBe(false)
    for (const attempt of [
      () => db.files.insert('n', null as never),
      () => db.events.push({ name: 'x' } as never),
      () => db.history.push('f1', { name: 1, size: 1 } as never),
      () => db.shares.insert('f1', 'bob', { size: -1, name: 'x' } as never),
      () => db.account.insert(undefined as never),
      () => db.files.update('f1', (f) => ({ ...f, size: 1.5 })),
    ]) {
      expect(attempt).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^TABLES_(SCHEMA_REJECTED|INVALID_VALUE)$/) }),
      )
    }
    expect(db.seq).toBe(seq)
    expect(db.files.get('f1')).toEqual({ name: 'a.md', size: 1 })
    await db.close()
  })

  it('rolls back the whole transaction when a value in it is rejected', async () => {
    const db = await openDb(Core)
    const before = dump(db)
    expect(() =>
      db.transactionSync(() => {
        db.files.insert('ok', { name: 'ok', size: 1 })
        db.events.push({ name: 'bad', size: -5 })
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'TABLES_SCHEMA_REJECTED',
        context: expect.objectContaining({ table: 'events' }),
      }),
    )
    expect(dump(db)).toEqual(before)
    await db.close()
  })

  it("refuses a number key in a key: 'string' table, naming the key's type and the table", async () => {
    const db = await openDb(Core)
    for (const attempt of [
      () => db.files.insert(42 as never, { name: 'a', size: 1 }),
      () => db.files.remove(42 as never),
      () => db.history.createKey(42 as never),
      () => db.shares.insert('f', 7 as never, { name: 'a', size: 1 }),
    ]) {
      let error: unknown
      try {
        attempt()
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'TABLES_INVALID_KEY', context: { keyType: 'number', expected: 'string' } })
      expect((error as Error).message).toMatch(
        /^table "(files|history|shares)": key2? 4?[27] is a number, but the table's/,
      )
    }
    expect(db.seq).toBe(0)
    await db.close()
  })
})

describe('the messages a refused write gives (as the README quotes them)', () => {
  it('names the table, the key, the schema library and the path of a rejected value, and a member of the wrong type', async () => {
    const File = z.object({ name: z.string(), size: z.number().int().nonnegative(), tags: z.array(z.string()) })
    const Checked = schema({
      files: lookupTable({ key: 'string', schema: File }),
      children: lookupSet<string, string>({ key: 'string', member: 'string' }),
    })
    const checked = await openDb(Checked)
    expect(() => checked.files.insert('f6', JSON.parse('{"name":"f6","size":"big","tags":[]}'))).toThrow(
      'table "files", key "f6": the schema (zod) rejected the value: $.size: Invalid input: expected number, received string',
    )
    expect(() => checked.children.insert('root', 42 as never)).toThrow(
      "member 42 is a number, but the table's members are strings",
    )
    await checked.close()
  })
})

describe('stored values are the schema output', () => {
  it('stores defaults and transforms the schema applies', async () => {
    const Core = schema({
      files: lookupTable({
        key: z.string().min(2),
        schema: z.object({ name: z.string().trim(), tags: z.array(z.string()).default([]) }),
      }),
    })
    const db = await openDb(Core)
    const input = { name: '  notes.md  ' }
    const stored = db.files.insert('f1', input as never)
    expect(stored).toBeUndefined()
    expect(db.files.get('f1')).toEqual({ name: 'notes.md', tags: [] })
    expect(Object.isFrozen(db.files.get('f1'))).toBe(true)
    expect(Object.isFrozen(input)).toBe(false) // the schema made a new object: the caller's stays theirs
    expect(() => db.files.insert('x', { name: 'a', tags: [] })).toThrow(
      expect.objectContaining({ code: 'TABLES_INVALID_KEY', context: expect.objectContaining({ key: 'x' }) }),
    )
    await db.close()
  })

  it('checks lookupSet keys and members, and a mixed key type through a schema', async () => {
    const Core = schema({
      children: lookupSet({ key: 'string', member: 'number' }),
      ids: lookupTable({ key: z.union([z.string(), z.number().int()]), schema: z.number() }),
    })
    const db = await openDb(Core)
    db.children.insert('root', 1)
    expect(() => db.children.insert('root', '1' as never)).toThrow(
      expect.objectContaining({ code: 'TABLES_INVALID_KEY', context: expect.objectContaining({ member: '1' }) }),
    )
    db.ids.insert('a', 1)
    db.ids.insert(2, 1)
    expect(() => db.ids.insert(2.5, 1)).toThrow(expect.objectContaining({ code: 'TABLES_INVALID_KEY' }))
    expect(db.seq).toBe(3)
    await db.close()
  })

  it('does not validate values loaded from the log again (a stricter schema still opens old data)', async () => {
    const dir = tempDir('tables')
    const loose = await openDb(schema({ files: lookupTable({ schema: z.object({ size: z.number() }) }) }), { dir })
    loose.files.insert('big', { size: 10_000 })
    await loose.close()
    const Strict = schema({ files: lookupTable({ schema: z.object({ size: z.number().max(10) }) }) })
    const strict = await openDb(Strict, { dir })
    expect(strict.files.get('big')).toEqual({ size: 10_000 })
    expect(() => strict.files.insert('again', { size: 10_000 })).toThrow(
      expect.objectContaining({ code: 'TABLES_SCHEMA_REJECTED' }),
    )
    await strict.close()
  })
})

describe('refused schemas', () => {
  it('refuses an asynchronous validator with TABLES_ASYNC_SCHEMA, changing nothing', async () => {
    const Async = z.object({ name: z.string().refine(async (s) => s.length > 0) })
    const db = await openDb(schema({ files: lookupTable({ schema: Async }) }))
    let error: unknown
    try {
      db.files.insert('a', { name: 'x' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TablesSchemaError)
    expect(error).toMatchObject({ code: 'TABLES_ASYNC_SCHEMA', context: { table: 'files', vendor: 'zod' } })
    expect(db.files.size).toBe(0)
    expect(db.seq).toBe(0)
    await db.close()
  })

  it('refuses at schema() a schema option that is not a Standard Schema, and unknown options, naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => schema({ t: lookupTable({ schema: { parse: () => 1 } } as never) }), 'schema'],
      [() => schema({ t: lookupTable({ key: 'boolean' } as never) }), 'key'],
      [() => schema({ t: lookupSet({ member: 5 } as never) }), 'member'],
      [() => schema({ t: lookupTable({ shema: z.string() } as never) }), 'shema'],
      [() => schema({ t: lookupSet({ schema: z.string() } as never) }), 'schema'],
      [() => schema({ t: list({ key: 'string' } as never) }), 'key'],
    ]
    for (const [attempt, option] of cases) {
      expect(attempt).toThrow(expect.objectContaining({ code: 'TABLES_SCHEMA', context: { table: 't', option } }))
    }
  })
})
