// Schema changes against an existing db directory: adding a table, tables the schema no longer declares (refused
// unless dropTables names them; the drop is a commit every later open and follower sees), a table whose kind
// changed, and value versions with upgrade(). Every refused open is checked to leave every file byte for byte as it
// was (sha256 of each file, LOCK aside), to reject with the typed error, its code and a context naming the tables
// and seq, and to release the directory (the right schema opens it for writing right after). A refused open hands
// out no db, so there is no in-memory state to inspect beyond the error.
import { openLog, verifyLog } from '@homedb/log'
import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  type CommitEvent,
  type Db,
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  type Schema,
  schema,
  single,
  type TableDefs,
  TablesSchemaError,
} from '../src/index.js'
import { decodePayload, encodePayload } from '../src/internal/codec.js'
import { DB_OP, OP } from '../src/internal/opcodes.js'
import { dump } from './support/dump.js'
import { fileHashes } from './support/file-hashes.js'

type Code = 'TABLES_UNKNOWN_TABLE' | 'TABLES_KIND_MISMATCH' | 'TABLES_VERSION_AHEAD' | 'TABLES_UPGRADE_FAILED'

/**
 * Runs `open`, which must reject with a TablesSchemaError of `code` whose context matches `context`, and checks
 * that no file of `dir` changed. Returns the error.
 */
async function expectRefused(
  dir: string,
  open: () => Promise<{ close(): Promise<void> }>,
  code: Code,
  context: Record<string, unknown>,
): Promise<TablesSchemaError> {
  const before = fileHashes(dir)
  expect(Object.keys(before).length).toBeGreaterThan(0)
  const error = await open().then(
    async (db) => {
      await db.close()
      throw new Error(`the open succeeded; expected ${code}`)
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TablesSchemaError)
  expect(error).toMatchObject({ code, context })
  expect(fileHashes(dir)).toEqual(before)
  return error as TablesSchemaError
}

/** Opens, runs `write`, waits for durability and closes. */
async function writeWith<D extends TableDefs>(
  s: Schema<D>,
  dir: string,
  write: (db: Db<D>) => void,
  options: { compact?: boolean } = {},
): Promise<number> {
  const db = await openDb(s, { dir, autoCompact: false })
  write(db)
  await db.sync()
  if (options.compact === true) await db.compact()
  const seq = db.seq
  await db.close()
  return seq
}

/** Decoded payloads of every commit a directory's log still holds in its segments. */
async function commitsOf(dir: string): Promise<{ seq: number; ops: unknown }[]> {
  const log = await openLog(dir, { readOnly: true })
  const out: { seq: number; ops: unknown }[] = []
  try {
    for await (const c of log.read({ from: log.start.seq })) out.push({ seq: c.seq, ops: decodePayload(c.payload) })
  } finally {
    await log.close()
  }
  return out
}

/** The header (first chunk) of the latest snapshot of a directory's log, decoded. */
async function snapshotHeader(dir: string): Promise<{ seq: number; tables: Record<string, unknown> } | undefined> {
  const log = await openLog(dir, { readOnly: true })
  try {
    const snap = await log.latestSnapshot()
    if (snap === undefined) return undefined
    for await (const chunk of snap.chunks()) return decodePayload(chunk) as { seq: number; tables: {} }
    return undefined
  } finally {
    await log.close()
  }
}

// ---------------------------------------------------------------------------------------------- adding a table

describe('adding a table', () => {
  const Before = schema({ meta: lookupTable<string, number>() })
  const After = schema({ meta: lookupTable<string, number>(), events: list<string>(), account: single<string>() })

  it('opens an existing db with a schema that adds tables: old data intact, new tables empty and writable, all kept across reopen', async () => {
    const dir = tempDir('tables')
    await writeWith(Before, dir, (db) => {
      db.meta.insert('a', 1)
      db.meta.insert('b', 2)
    })
    const db = await openDb(After, { dir })
    expect(dump(db)).toEqual({
      meta: [
        ['a', 1],
        ['b', 2],
      ],
      events: [],
      account: undefined,
    })
    expect(db.seq).toBe(2) // adding a table writes nothing
    db.events.push('x')
    db.account.insert('me')
    await db.close()
    const again = await openDb(After, { dir })
    expect(dump(again)).toEqual({
      meta: [
        ['a', 1],
        ['b', 2],
      ],
      events: ['x'],
      account: 'me',
    })
    await again.close()
  })
})

// ------------------------------------------------------------------------------------- undeclared tables

describe('tables the schema no longer declares', () => {
  const Full = schema({ a: lookupTable<string, number>(), b: list<string>(), c: single<number>() })
  const OnlyA = schema({ a: lookupTable<string, number>() })

  async function fill(dir: string, compact = false): Promise<number> {
    return writeWith(
      Full,
      dir,
      (db) => {
        db.a.insert('x', 1) // seq 1
        db.b.push('first b') // seq 2
        db.a.insert('y', 2) // seq 3
        db.c.insert(7) // seq 4
        db.b.push('second b') // seq 5
      },
      { compact },
    )
  }

  it('refuses the open with TABLES_UNKNOWN_TABLE naming every undeclared table and the first seq that wrote one, changing no file', async () => {
    const dir = tempDir('tables')
    await fill(dir)
    const error = await expectRefused(dir, () => openDb(OnlyA, { dir }), 'TABLES_UNKNOWN_TABLE', {
      tables: ['b', 'c'],
      seq: 2,
    })
    expect(error.message).toContain('"b"')
    expect(error.message).toContain('dropTables')
    // The refused open released the directory and lost nothing: the full schema opens it for writing.
    const db = await openDb(Full, { dir })
    expect(dump(db)).toEqual({
      a: [
        ['x', 1],
        ['y', 2],
      ],
      b: ['first b', 'second b'],
      c: 7,
    })
    await db.close()
  })

  it('refuses a read-only open the same way', async () => {
    const dir = tempDir('tables')
    await fill(dir)
    await expectRefused(dir, () => openDb(OnlyA, { dir, readOnly: true }), 'TABLES_UNKNOWN_TABLE', {
      tables: ['b', 'c'],
    })
  })

  it('refuses when the undeclared tables survive only in a snapshot (the seq is the snapshot’s)', async () => {
    const dir = tempDir('tables')
    const seq = await fill(dir, true)
    const report = await verifyLog(dir)
    expect(report.snapshots.filter((s) => s.valid).map((s) => s.seq)).toEqual([seq])
    expect(report.start.seq).toBe(seq) // the commits that wrote b and c are gone from the segments
    await expectRefused(dir, () => openDb(OnlyA, { dir }), 'TABLES_UNKNOWN_TABLE', { tables: ['b', 'c'], seq })
  })

  it('refuses when dropTables names only some of them, naming the rest', async () => {
    const dir = tempDir('tables')
    await fill(dir)
    const error = await expectRefused(
      dir,
      () => openDb(OnlyA, { dir, dropTables: ['c', 'not-there'] }),
      'TABLES_UNKNOWN_TABLE',
      { seq: 2 },
    )
    expect(error.context.tables).toEqual(['b'])
  })
})

// -------------------------------------------------------------------------------------------- dropTables

describe('dropTables', () => {
  const Full = schema({ a: lookupTable<string, number>(), b: list<string>() })
  const OnlyA = schema({ a: lookupTable<string, number>() })

  async function fill(dir: string): Promise<number> {
    return writeWith(Full, dir, (db) => {
      db.a.insert('x', 1)
      db.b.push('old 1')
      db.b.push('old 2')
    })
  }

  it('writes one db-level commit recording the drop; later opens need no dropTables and never see the data again', async () => {
    const dir = tempDir('tables')
    const before = await fill(dir)
    const db = await openDb(OnlyA, { dir, dropTables: ['b'] })
    expect(db.seq).toBe(before + 1)
    expect(dump(db)).toEqual({ a: [['x', 1]] })
    await db.close()
    const commits = await commitsOf(dir)
    expect(commits.at(-1)).toEqual({ seq: before + 1, ops: [['', DB_OP.DROP_TABLES, ['b']]] })

    const plain = await openDb(OnlyA, { dir })
    expect(plain.seq).toBe(before + 1) // nothing more written
    await plain.close()

    // The same name declared again is a new, empty table; what is written to it now stays.
    const readded = await openDb(Full, { dir })
    expect(dump(readded)).toEqual({ a: [['x', 1]], b: [] })
    readded.b.push('new')
    await readded.close()
    const last = await openDb(Full, { dir })
    expect(dump(last)).toEqual({ a: [['x', 1]], b: ['new'] })
    await last.close()
  })

  it('a read-only open after the drop sees it, whether or not its schema declares the table', async () => {
    const dir = tempDir('tables')
    await fill(dir)
    await (await openDb(OnlyA, { dir, dropTables: ['b'] })).close()
    const withoutB = await openDb(OnlyA, { dir, readOnly: true })
    expect(dump(withoutB)).toEqual({ a: [['x', 1]] })
    const withB = await openDb(Full, { dir, readOnly: true })
    expect(dump(withB)).toEqual({ a: [['x', 1]], b: [] })
    await Promise.all([withoutB.close(), withB.close()])
  })

  it('a follower running during the drop emits a reset at the drop commit and then reads the table empty', async () => {
    const dir = tempDir('tables')
    const filled = await fill(dir)
    const follower = await openDb(Full, { dir, readOnly: true, followIntervalMs: 5 })
    expect(follower.b.data).toEqual(['old 1', 'old 2'])
    const events: CommitEvent<(typeof Full)['tables']>[] = []
    const reached = (seq: number) =>
      new Promise<void>((resolve) => {
        const off = follower.onCommit((event) => {
          events.push(event)
          if (event.seq >= seq) {
            off()
            resolve()
          }
        })
      })
    const sawDrop = reached(filled + 1)
    const writer = await openDb(OnlyA, { dir, dropTables: ['b'] })
    await sawDrop
    expect(events).toEqual([{ seq: filled + 1, changes: {}, reset: true }])
    expect(dump(follower)).toEqual({ a: [['x', 1]], b: [] })
    // It goes on following the writer after the drop.
    const sawInsert = reached(filled + 2)
    writer.a.insert('y', 2)
    await sawInsert
    expect(events.at(-1)).toEqual({ seq: filled + 2, changes: { a: [{ op: 'set', key: 'y', value: 2 }] } })
    expect(dump(follower)).toEqual({
      a: [
        ['x', 1],
        ['y', 2],
      ],
      b: [],
    })
    await Promise.all([writer.close(), follower.close()])
  })

  it('the drop survives compaction: after it, the snapshot holds no trace of the table', async () => {
    const dir = tempDir('tables')
    await fill(dir)
    const db = await openDb(OnlyA, { dir, dropTables: ['b'], autoCompact: false })
    const { seq } = await db.compact()
    await db.close()
    expect((await snapshotHeader(dir))?.tables).toEqual({ a: { kind: 'lookupTable', version: 1 } })
    expect((await verifyLog(dir)).start.seq).toBe(seq)
    const readded = await openDb(Full, { dir })
    expect(dump(readded)).toEqual({ a: [['x', 1]], b: [] })
    await readded.close()
  })

  it('writes nothing when the log holds no table that dropTables names', async () => {
    const dir = tempDir('tables')
    const seq = await fill(dir)
    const before = fileHashes(dir)
    const db = await openDb(Full, { dir, dropTables: ['zzz'] })
    expect(db.seq).toBe(seq)
    await db.close()
    expect(fileHashes(dir)).toEqual(before)
  })
})

// ------------------------------------------------------------------------------------------- kind changes

describe('a table whose kind changed', () => {
  const writers: Record<string, (dir: string, compact: boolean) => Promise<number>> = {
    list: (dir, compact) => writeWith(schema({ t: list<number>() }), dir, (db) => db.t.push(1), { compact }),
    lookupTable: (dir, compact) =>
      writeWith(schema({ t: lookupTable<string, number>() }), dir, (db) => db.t.insert('k', 1), { compact }),
    single: (dir, compact) => writeWith(schema({ t: single<number>() }), dir, (db) => db.t.insert(1), { compact }),
    lookupSet: (dir, compact) =>
      writeWith(schema({ t: lookupSet<string, string>() }), dir, (db) => db.t.insert('k', 'm'), { compact }),
  }
  const cases = [
    { from: 'list', to: 'lookupTable', target: schema({ t: lookupTable<string, number>() }) },
    { from: 'lookupTable', to: 'lookupMap', target: schema({ t: lookupMap<string, string, number>() }) },
    { from: 'single', to: 'list', target: schema({ t: list<number>() }) },
    { from: 'lookupSet', to: 'lookupList', target: schema({ t: lookupList<string, string>() }) },
  ] as const

  it.each(cases)('refuses $from → $to with TABLES_KIND_MISMATCH, changing no file', async ({ from, to, target }) => {
    const dir = tempDir('tables')
    const seq = await writers[from]!(dir, false)
    const error = await expectRefused(dir, () => openDb(target as Schema<TableDefs>, { dir }), 'TABLES_KIND_MISMATCH', {
      table: 't',
      seq,
      logKind: from,
      schemaKind: to,
    })
    expect(error.message).toContain(`"t"`)
    await expectRefused(
      dir,
      () => openDb(target as Schema<TableDefs>, { dir, readOnly: true }),
      'TABLES_KIND_MISMATCH',
      { table: 't' },
    )
  })

  it.each(cases)('refuses $from → $to when the data is in a snapshot', async ({ from, to, target }) => {
    const dir = tempDir('tables')
    const seq = await writers[from]!(dir, true)
    expect((await snapshotHeader(dir))?.seq).toBe(seq)
    await expectRefused(dir, () => openDb(target as Schema<TableDefs>, { dir }), 'TABLES_KIND_MISMATCH', {
      table: 't',
      seq,
      logKind: from,
      schemaKind: to,
    })
  })
})

// ------------------------------------------------------------------------------------------ value versions

describe('schema() and value versions', () => {
  const upgrade = (old: unknown) => old as number

  it.each([0, -1, 1.5, Number.NaN, 2 ** 53])('rejects version %s', (version) => {
    expect(() => schema({ t: lookupTable<string, number>({ version, upgrade }) })).toThrow(
      expect.objectContaining({ code: 'TABLES_SCHEMA', context: expect.objectContaining({ table: 't' }) }),
    )
  })

  it('rejects a version above 1 without an upgrade function', () => {
    expect(() => schema({ t: list<number>({ version: 2 } as never) })).toThrow(
      expect.objectContaining({ code: 'TABLES_SCHEMA', context: { table: 't', option: 'upgrade', version: 2 } }),
    )
    expect(() => schema({ t: single<number>({ version: 3, upgrade: 'no' } as never) })).toThrow(TablesSchemaError)
  })

  it('rejects a version on a lookupSet (its members are keys, which have no versions)', () => {
    const def = { kind: 'lookupSet', version: 2, upgrade } as unknown as ReturnType<typeof lookupSet<string, string>>
    expect(() => schema({ s: def })).toThrow(
      expect.objectContaining({ code: 'TABLES_SCHEMA', context: { table: 's', option: 'version' } }),
    )
  })

  it('accepts version 1 without upgrade and a version with upgrade on every other kind', () => {
    const s = schema({
      a: single<number>({ version: 1 } as never),
      b: lookupTable<string, number>({ version: 2, upgrade }),
      c: list<number>({ version: 2, upgrade }),
      d: lookupList<string, number>({ version: 2, upgrade }),
      e: lookupMap<string, string, number>({ version: 2, upgrade }),
    })
    expect(s.tables.b).toMatchObject({ kind: 'lookupTable', version: 2 })
    expect(s.tables.a).toEqual({ kind: 'single', version: 1 })
  })
})

interface V1 {
  size: number
}
interface V2 {
  bytes: number
}
interface V3 {
  bytes: number
  unit: 'B'
}

const Files1 = schema({
  one: single<V1>(),
  files: lookupTable<string, V1>(),
  log: list<V1>(),
  hist: lookupList<string, V1>(),
  shares: lookupMap<string, string, V1>(),
  tags: lookupSet<string, string>(),
})

/** Every upgrade call: the old value and the version it came from. */
type Calls = [unknown, number][]

/** The same tables at version 2, converting with `convert` (default: { size } to { bytes }); every call is recorded. */
function files2(calls: Calls, convert: (old: unknown, from: number) => V2 = (old) => ({ bytes: (old as V1).size })) {
  const upgrade = (old: unknown, from: number): V2 => {
    calls.push([old, from])
    return convert(old, from)
  }
  return schema({
    one: single<V2>({ version: 2, upgrade }),
    files: lookupTable<string, V2>({ version: 2, upgrade }),
    log: list<V2>({ version: 2, upgrade }),
    hist: lookupList<string, V2>({ version: 2, upgrade }),
    shares: lookupMap<string, string, V2>({ version: 2, upgrade }),
    tags: lookupSet<string, string>(),
  })
}

/** Version 3, upgrading from 1 ({ size }) or 2 ({ bytes }). */
function files3(calls: Calls) {
  const upgrade = (old: unknown, from: number): V3 => {
    calls.push([old, from])
    if (from === 1) return { bytes: (old as V1).size, unit: 'B' }
    if (from === 2) return { bytes: (old as V2).bytes, unit: 'B' }
    throw new Error(`no upgrade from ${from}`)
  }
  return schema({
    one: single<V3>({ version: 3, upgrade }),
    files: lookupTable<string, V3>({ version: 3, upgrade }),
    log: list<V3>({ version: 3, upgrade }),
    hist: lookupList<string, V3>({ version: 3, upgrade }),
    shares: lookupMap<string, string, V3>({ version: 3, upgrade }),
    tags: lookupSet<string, string>(),
  })
}

/** Seven version-1 values, one per stored value (nothing overwritten), on every versionable kind. */
async function fillV1(dir: string, compact = false): Promise<number> {
  return writeWith(
    Files1,
    dir,
    (db) => {
      db.one.insert({ size: 1 })
      db.transaction(() => {
        db.files.insert('a', { size: 2 })
        db.files.insert('b', { size: 3 })
      })
      db.log.push({ size: 4 })
      db.log.push({ size: 5 })
      db.hist.push('h', { size: 6 })
      db.hist.createKey('empty')
      db.shares.insert('s', 'u', { size: 7 })
      db.tags.insert('t', 'm')
    },
    { compact },
  )
}

/** The state fillV1 wrote, with every value turned into `f(size)`. */
function upgradedState(f: (n: number) => unknown): Record<string, unknown> {
  return {
    one: f(1),
    files: [
      ['a', f(2)],
      ['b', f(3)],
    ],
    log: [f(4), f(5)],
    hist: [
      ['h', [f(6)]],
      ['empty', []],
    ],
    shares: [['s', [['u', f(7)]]]],
    tags: [['t', ['m']]],
  }
}

const sizes = (calls: Calls) => calls.map(([old]) => (old as V1).size).sort((x, y) => x - y)

describe('value upgrades at open', () => {
  it('upgrades every stored value of every versionable kind, calling upgrade once per value with fromVersion 1', async () => {
    const dir = tempDir('tables')
    await fillV1(dir)
    const calls: Calls = []
    const db = await openDb(files2(calls), { dir })
    expect(dump(db)).toEqual(upgradedState((n) => ({ bytes: n })))
    expect(sizes(calls)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(calls.every(([, from]) => from === 1)).toBe(true)
    expect(Object.isFrozen(db.files.get('a'))).toBe(true)
    await db.close()
  })

  it('records the new version and compacts, so the next open calls upgrade zero times', async () => {
    const dir = tempDir('tables')
    const filled = await fillV1(dir)
    const calls: Calls = []
    const db = await openDb(files2(calls), { dir })
    const seq = db.seq
    expect(seq).toBe(filled + 1) // one commit recording the versions
    await db.close()
    const report = await verifyLog(dir)
    expect(report.snapshots.filter((s) => s.valid).map((s) => s.seq)).toEqual([seq])
    expect(report.start.seq).toBe(seq) // the version-1 commits were released
    const header = await snapshotHeader(dir)
    expect(header?.tables).toEqual({
      files: { kind: 'lookupTable', version: 2 },
      hist: { kind: 'lookupList', version: 2 },
      log: { kind: 'list', version: 2 },
      one: { kind: 'single', version: 2 },
      shares: { kind: 'lookupMap', version: 2 },
      tags: { kind: 'lookupSet', version: 1 },
    })

    const again: Calls = []
    const reopened = await openDb(files2(again), { dir })
    expect(again).toEqual([])
    expect(reopened.seq).toBe(seq)
    expect(dump(reopened)).toEqual(upgradedState((n) => ({ bytes: n })))
    await reopened.close()
  })

  it('a fresh db opened with a versioned schema records the versions in one db-level commit and compacts nothing', async () => {
    const dir = tempDir('tables')
    const calls: Calls = []
    const db = await openDb(files2(calls), { dir })
    expect(db.seq).toBe(1)
    await db.close()
    expect(await commitsOf(dir)).toEqual([
      {
        seq: 1,
        ops: [
          ['', DB_OP.TABLE_VERSION, 'one', 2],
          ['', DB_OP.TABLE_VERSION, 'files', 2],
          ['', DB_OP.TABLE_VERSION, 'log', 2],
          ['', DB_OP.TABLE_VERSION, 'hist', 2],
          ['', DB_OP.TABLE_VERSION, 'shares', 2],
        ],
      },
    ])
    expect((await verifyLog(dir)).snapshots).toEqual([])
    expect(calls).toEqual([])
  })

  it('does not upgrade values written after the version was recorded, whether replayed from the log or a snapshot', async () => {
    const dir = tempDir('tables')
    // Replayed from commits: a db that started at version 2.
    const calls: Calls = []
    const db = await openDb(files2(calls), { dir })
    db.files.insert('new', { bytes: 10 })
    db.log.push({ bytes: 11 })
    await db.close()
    const reopened = await openDb(files2(calls), { dir })
    expect(calls).toEqual([])
    expect((await verifyLog(dir)).snapshots).toEqual([])
    expect(reopened.files.get('new')).toEqual({ bytes: 10 })
    await reopened.close()

    // After an upgrade (which compacted): values written next are replayed as they are.
    const dir2 = tempDir('tables')
    await fillV1(dir2)
    const first: Calls = []
    const upgraded = await openDb(files2(first), { dir: dir2 })
    expect(first).toHaveLength(7)
    upgraded.files.insert('c', { bytes: 8 })
    upgraded.shares.insert('s', 'v', { bytes: 9 })
    await upgraded.close()
    const second: Calls = []
    const last = await openDb(files2(second), { dir: dir2 })
    expect(second).toEqual([])
    expect(last.files.get('c')).toEqual({ bytes: 8 })
    expect(last.shares.get('s', 'v')).toEqual({ bytes: 9 })
    await last.close()
  })

  it('upgrades in one step across several versions: version-1 data opened with a version-3 schema calls upgrade(old, 1)', async () => {
    const dir = tempDir('tables')
    await fillV1(dir)
    const calls: Calls = []
    const db = await openDb(files3(calls), { dir })
    expect(dump(db)).toEqual(upgradedState((n) => ({ bytes: n, unit: 'B' })))
    expect(sizes(calls)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(calls.every(([, from]) => from === 1)).toBe(true)
    await db.close()
    const again: Calls = []
    await (await openDb(files3(again), { dir })).close()
    expect(again).toEqual([])
  })

  it('a snapshot remembers the version of its values: 1 → 2 → 3 upgrades snapshot and later values from 2', async () => {
    const dir = tempDir('tables')
    await fillV1(dir)
    const v2: Calls = []
    const db2 = await openDb(files2(v2), { dir })
    db2.files.insert('c', { bytes: 8 })
    await db2.close()
    const v3: Calls = []
    const db3 = await openDb(files3(v3), { dir })
    expect(v3).toHaveLength(8)
    expect(v3.every(([, from]) => from === 2)).toBe(true)
    expect(db3.files.get('c')).toEqual({ bytes: 8, unit: 'B' })
    expect(db3.one.get()).toEqual({ bytes: 1, unit: 'B' })
    await db3.close()
  })

  it('upgrades each value from the version it was written with when one log holds several versions', async () => {
    // A log whose upgrade compaction never ran (e.g. a crash right after the version commit), written by hand
    // in the documented format: a version-1 value, the version commit, a version-2 value.
    const dir = tempDir('tables')
    const log = await openLog(dir)
    log.append(encodePayload([['files', OP.LT_SET, 'a', { size: 1 }]]))
    log.append(encodePayload([['', DB_OP.TABLE_VERSION, 'files', 2]]))
    log.append(encodePayload([['files', OP.LT_SET, 'b', { bytes: 2 }]]))
    await log.close()
    const calls: Calls = []
    const db = await openDb(files3(calls), { dir })
    expect(calls).toEqual([
      [{ size: 1 }, 1],
      [{ bytes: 2 }, 2],
    ])
    expect(dump(db).files).toEqual([
      ['a', { bytes: 1, unit: 'B' }],
      ['b', { bytes: 2, unit: 'B' }],
    ])
    await db.close()
  })

  it('a read-only open upgrades in memory and writes nothing', async () => {
    const dir = tempDir('tables')
    await fillV1(dir)
    const before = fileHashes(dir)
    const calls: Calls = []
    const db = await openDb(files2(calls), { dir, readOnly: true })
    expect(dump(db)).toEqual(upgradedState((n) => ({ bytes: n })))
    expect(calls).toHaveLength(7)
    await db.close()
    expect(fileHashes(dir)).toEqual(before)
  })
})

describe('refused version changes', () => {
  const Plain = schema({ files: lookupTable<string, V2>() })
  const At = (version: number) => schema({ files: lookupTable<string, V2>({ version, upgrade: (old) => old as V2 }) })

  it('refuses a log whose recorded version is ahead of the schema (TABLES_VERSION_AHEAD), changing no file', async () => {
    const dir = tempDir('tables')
    await writeWith(At(3), dir, (db) => db.files.insert('a', { bytes: 1 }))
    const context = { table: 'files', seq: 1, logVersion: 3 }
    await expectRefused(dir, () => openDb(At(2), { dir }), 'TABLES_VERSION_AHEAD', { ...context, schemaVersion: 2 })
    await expectRefused(dir, () => openDb(Plain, { dir }), 'TABLES_VERSION_AHEAD', { ...context, schemaVersion: 1 })
    await expectRefused(dir, () => openDb(At(2), { dir, readOnly: true }), 'TABLES_VERSION_AHEAD', context)
    const db = await openDb(At(3), { dir })
    expect(db.files.get('a')).toEqual({ bytes: 1 })
    await db.close()
  })

  it('refuses a snapshot whose recorded version is ahead of the schema, changing no file', async () => {
    const dir = tempDir('tables')
    const seq = await writeWith(At(3), dir, (db) => db.files.insert('a', { bytes: 1 }), { compact: true })
    expect((await snapshotHeader(dir))?.tables).toEqual({ files: { kind: 'lookupTable', version: 3 } })
    expect((await verifyLog(dir)).start.seq).toBe(seq) // the version commit itself is gone: only the header says 3
    // Before the fix, the version-2 schema fed these values to upgrade(old, 3), recorded version 2 and compacted.
    const calls: Calls = []
    const upgrade = (old: unknown, from: number): V2 => {
      calls.push([old, from])
      return old as V2
    }
    const V2Files = schema({ files: lookupTable<string, V2>({ version: 2, upgrade }) })
    await expectRefused(dir, () => openDb(V2Files, { dir }), 'TABLES_VERSION_AHEAD', {
      table: 'files',
      seq,
      logVersion: 3,
      schemaVersion: 2,
    })
    expect(calls).toEqual([])
    await expectRefused(dir, () => openDb(Plain, { dir }), 'TABLES_VERSION_AHEAD', { table: 'files' })
  })

  it('refuses the open when upgrade throws (TABLES_UPGRADE_FAILED), naming table, key, seq and fromVersion; nothing written', async () => {
    const dir = tempDir('tables')
    await fillV1(dir)
    const seqOfB = 2 // the transaction that wrote files a and b
    const calls: Calls = []
    const failing = files2(calls, (old) => {
      if ((old as V1).size === 3) throw new Error('cannot convert b')
      return { bytes: (old as V1).size }
    })
    const error = await expectRefused(dir, () => openDb(failing, { dir }), 'TABLES_UPGRADE_FAILED', {
      table: 'files',
      key: 'b',
      seq: seqOfB,
      fromVersion: 1,
    })
    expect(error.message).toContain('cannot convert b')
    await expectRefused(dir, () => openDb(failing, { dir, readOnly: true }), 'TABLES_UPGRADE_FAILED', {
      table: 'files',
    })
    // Nothing was recorded: a working upgrade still sees every version-1 value.
    const good: Calls = []
    const db = await openDb(files2(good), { dir })
    expect(good).toHaveLength(7)
    await db.close()
  })

  it.each([
    ['a function', () => 1],
    ['undefined', undefined],
    ['a value holding a symbol', { s: Symbol('x') }],
    ['a Map', new Map([[1, 2]])],
  ])('refuses the open when upgrade returns %s (TABLES_UPGRADE_FAILED); nothing written', async (_, returned) => {
    const dir = tempDir('tables')
    await fillV1(dir)
    const bad = files2([], () => returned as never)
    await expectRefused(dir, () => openDb(bad, { dir }), 'TABLES_UPGRADE_FAILED', { table: 'one', seq: 1 })
  })

  it('refuses the open when upgrading a snapshot’s value fails; nothing written', async () => {
    const dir = tempDir('tables')
    const seq = await fillV1(dir, true)
    const failing = files2([], () => {
      throw new Error('no')
    })
    await expectRefused(dir, () => openDb(failing, { dir }), 'TABLES_UPGRADE_FAILED', { seq, fromVersion: 1 })
  })
})
