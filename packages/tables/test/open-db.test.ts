import * as fs from 'node:fs'
import * as path from 'node:path'
import { openLog } from '@homedb/log'
import { dirBytes, tempDir } from '@homedb/testkit'
import { pack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import {
  followDb,
  list,
  lookupTable,
  openDb,
  RESERVED_TABLE_NAMES,
  schema,
  single,
  TablesConfigError,
  TablesLogError,
  TablesSchemaError,
} from '../src/index.js'

const S = schema({ meta: lookupTable<string, number>(), events: list<string>() })

describe('schema', () => {
  it.each([
    'seq',
    'close',
    'sync',
    'transaction',
    'transactionSync',
    'onCommit',
    'onDurable',
    'onClose',
    'closed',
    'readOnly',
    'then',
    'compact',
    'stateHash',
    'waitFor',
  ])('rejects the reserved table name %s', (name) => {
    expect(() => schema({ [name]: single<number>() })).toThrow(TablesSchemaError)
    expect(RESERVED_TABLE_NAMES).toContain(name)
  })

  it('rejects an empty name and a value that is not a table definition', () => {
    expect(() => schema({ '': single<number>() })).toThrow(expect.objectContaining({ code: 'TABLES_SCHEMA' }))
    expect(() => schema({ x: { kind: 'table' } as never })).toThrow(TablesSchemaError)
    expect(() => schema({ x: 1 as never })).toThrow(TablesSchemaError)
  })

  it('gives every table its name, kind and db', async () => {
    const db = await openDb(S)
    expect(db.meta.name).toBe('meta')
    expect(db.meta.kind).toBe('lookupTable')
    expect(db.meta.db).toBe(db)
    expect(db.events.kind).toBe('list')
    expect(Object.keys(db)).toEqual(['meta', 'events'])
  })
})

describe('openDb options', () => {
  it('refuses an unknown option with TABLES_CONFIG naming it (and the near miss), creating nothing', async () => {
    const dir = tempDir('tables')
    await expect(openDb(S, { dirr: `${dir}/db` } as never)).rejects.toMatchObject({
      code: 'TABLES_CONFIG',
      context: { option: 'dirr' },
      message: expect.stringContaining('openDb() has no option "dirr" (did you mean "dir"?)'),
    })
    await expect(openDb(S, { dir: `${dir}/db`, durabilty: 'os' } as never)).rejects.toMatchObject({
      code: 'TABLES_CONFIG',
      context: { option: 'durabilty' },
    })
    expect(fs.readdirSync(dir)).toEqual([])
    // Every documented option, the log's included, is accepted.
    const db = await openDb(S, {
      dir: `${dir}/db`,
      durability: 'os',
      freeze: true,
      onListenerError: () => {},
      onError: () => {},
      autoCompact: false,
      dropTables: [],
      segmentBytes: 1 << 20,
      maxPayloadBytes: 1 << 20,
      followIntervalMs: 25,
      mustExist: false,
    })
    await db.close()
  })

  it('refuses an unknown followDb option the same way', async () => {
    const log = await openLog(undefined, { durability: 'memory' })
    await expect(followDb(S, log, { onErorr: () => {} } as never)).rejects.toMatchObject({
      code: 'TABLES_CONFIG',
      context: { option: 'onErorr' },
      message: expect.stringContaining('(did you mean "onError"?)'),
    })
    await log.close()
  })

  it('says so when dir is a file, or a file stands where a parent directory should be, creating nothing', async () => {
    const base = tempDir('tables')
    const file = path.join(base, 'notes.txt')
    fs.writeFileSync(file, 'not a db')
    await expect(openDb(S, { dir: file })).rejects.toMatchObject({
      name: 'TablesConfigError',
      code: 'TABLES_CONFIG',
      context: { dir: file },
      message: `dir "${file}" is a file, not a directory: give the db a directory of its own`,
    })
    await expect(openDb(S, { dir: path.join(file, 'db') })).rejects.toMatchObject({
      code: 'TABLES_CONFIG',
      message: expect.stringContaining(`"${file}" is a file, not a directory`),
    })
    expect(fs.readdirSync(base)).toEqual(['notes.txt'])
    expect(fs.readFileSync(file, 'utf8')).toBe('not a db')
  })

  it('defaults to memory without a dir and to fsync with one', async () => {
    const mem = await openDb(S)
    mem.meta.insert('a', 1)
    await mem.sync()
    await mem.close()
    const dir = tempDir('tables')
    const disk = await openDb(S, { dir })
    disk.meta.insert('a', 1)
    await disk.close()
    expect(Object.keys(dirBytes(dir)).length).toBeGreaterThan(0)
  })

  it.each(['fsync', 'os'] as const)('rejects durability %s without a dir as a config error', async (durability) => {
    await expect(openDb(S, { durability })).rejects.toBeInstanceOf(TablesConfigError)
    await expect(openDb(S, { durability })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
  })

  it('rejects bad option values as config errors', async () => {
    await expect(openDb(S, { durability: 'sometimes' as never })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    await expect(openDb(S, { freeze: 'yes' as never })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    await expect(openDb(S, { dir: '' })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    await expect(openDb({} as never)).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    const dir = tempDir('tables')
    await expect(openDb(S, { dir, segmentBytes: 3 })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    expect(dirBytes(dir)).toEqual({})
  })

  it("works with durability 'os'", async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir, durability: 'os' })
    db.events.push('a')
    await db.close()
    const again = await openDb(S, { dir, durability: 'os' })
    expect(again.events.data).toEqual(['a'])
    await again.close()
  })
})

describe('opening an existing log', () => {
  it('refuses a second writer on the same dir with a log error', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.events.push('x')
    await db.sync()
    const bytes = dirBytes(dir)
    const error = await openDb(S, { dir }).catch((e: unknown) => e)
    expect(dirBytes(dir)).toEqual(bytes)
    expect(db.events.data).toEqual(['x'])
    expect(error).toBeInstanceOf(TablesLogError)
    expect(error).toMatchObject({ code: 'TABLES_LOG_ERROR', context: { logCode: 'LOG_LOCKED' } })
    await db.close()
  })

  it('refuses a log holding tables the schema does not declare, naming them, and leaves the files untouched', async () => {
    const dir = tempDir('tables')
    const wide = schema({
      meta: lookupTable<string, number>(),
      events: list<string>(),
      old: single<number>(),
      older: list<number>(),
    })
    const db = await openDb(wide, { dir })
    db.meta.insert('a', 1)
    db.old.insert(1)
    db.older.push(1)
    db.events.push('x')
    await db.close()
    const bytes = dirBytes(dir)
    const error = await openDb(S, { dir }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TablesSchemaError)
    expect(error).toMatchObject({ code: 'TABLES_UNKNOWN_TABLE', context: { tables: ['old', 'older'], seq: 2 } })
    expect(String((error as Error).message)).toContain('"old"')
    expect(dirBytes(dir)).toEqual(bytes)
    // the lock was released: the wide schema still opens and sees everything
    const again = await openDb(wide, { dir })
    expect(again.old.get()).toBe(1)
    await again.close()
  })

  it('refuses a table whose kind changed and leaves the files untouched', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.events.push('x')
    await db.close()
    const bytes = dirBytes(dir)
    const changed = schema({ meta: lookupTable<string, number>(), events: lookupTable<string, string>() })
    await expect(openDb(changed, { dir })).rejects.toMatchObject({
      code: 'TABLES_KIND_MISMATCH',
      context: { table: 'events', logKind: 'list', schemaKind: 'lookupTable' },
    })
    expect(dirBytes(dir)).toEqual(bytes)
  })

  it('accepts a new table added to the schema', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.events.push('x')
    await db.close()
    const more = schema({ meta: lookupTable<string, number>(), events: list<string>(), extra: single<number>() })
    const again = await openDb(more, { dir })
    expect(again.events.data).toEqual(['x'])
    expect(again.extra.get()).toBeUndefined()
    await again.close()
  })

  it('refuses a commit that is not a valid operation list with TABLES_CORRUPT_OP naming the seq', async () => {
    const dir = tempDir('tables')
    const log = await openLog(dir, {})
    log.append(pack([['events', 30, 'ok']]))
    log.append(pack([['events', 31, 5]])) // remove at an index that does not exist
    await log.close()
    const bytes = dirBytes(dir)
    await expect(openDb(S, { dir })).rejects.toMatchObject({ code: 'TABLES_CORRUPT_OP', context: { seq: 2 } })
    expect(dirBytes(dir)).toEqual(bytes)
  })

  it.each([
    ['garbage bytes', new Uint8Array([0xc1])],
    ['not an array', pack({ a: 1 })],
    ['an operation that is not an array', pack([1])],
    ['an unknown opcode', pack([['events', 99]])],
    ['a db-level operation', pack([['', 1]])],
    ['a push without a value', pack([['events', 30]])],
    ['a set with a non-key', pack([['meta', 20, { k: 1 }, 1]])],
  ])('refuses a payload with %s', async (_, payload) => {
    const dir = tempDir('tables')
    const log = await openLog(dir, {})
    log.append(payload)
    await log.close()
    await expect(openDb(S, { dir })).rejects.toMatchObject({ code: 'TABLES_CORRUPT_OP', context: { seq: 1 } })
  })

  it('opens read-only beside a writer, with the state at open, and refuses mutations', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.meta.insert('a', 1)
    await db.sync()
    const ro = await openDb(S, { dir, readOnly: true })
    expect(ro.readOnly).toBe(true)
    expect(ro.meta.get('a')).toBe(1)
    expect(ro.seq).toBe(1)
    expect(() => ro.meta.insert('b', 2)).toThrow(expect.objectContaining({ code: 'TABLES_READ_ONLY' }))
    expect(await ro.transaction(() => ro.meta.get('a'))).toBe(1)
    await ro.close()
    await db.close()
  })
})
