// Workload (issues 4 and 7): random point reads by key on a store of N rows, against a plain Map (the floor) and
// every peer's fastest keyed read. The store is built once per child process, untimed; each run times only reads.
import { join } from 'node:path'
import { randomIndices, recordKey, type SmallRecord, smallRecords } from '../records.js'
import { defineWorkload, opsPerSec, type RunContext, type SystemRun } from '../workload.js'
import { RowsSchema } from './support/homedb.js'
import { openSqlite } from './support/sqlite.js'

type PointReadsParams = {
  /** Rows in the store. */
  readonly rows: number
  /** Reads per run (warm-up runs too: reads are cheap next to the build, and a short warm-up leaves the loop cold). */
  readonly reads: number
}

/** A reader built once per child: reads record `key` and returns it (or undefined if missing). */
type Reader = (key: string) => unknown

const BUILD_TXN = 1_000
let built: { readonly reader: Reader; readonly keys: string[] } | undefined

/** Builds the store once per child (untimed), then times `reads` lookups of uniformly random existing keys. */
function reads(build: (records: SmallRecord[], ctx: RunContext) => Promise<Reader>): SystemRun<PointReadsParams> {
  return async (p, ctx) => {
    if (built === undefined) {
      const records = smallRecords(p.rows)
      const reader = await build(records, ctx)
      const keys = Array.from(randomIndices(p.reads, p.rows), (i) => recordKey(i))
      built = { reader, keys }
    }
    const { reader, keys } = built
    const n = keys.length
    let found = 0
    const start = performance.now()
    for (let i = 0; i < n; i++) if (reader(keys[i]!) !== undefined) found++
    const elapsed = performance.now() - start
    if (found !== n) throw new Error(`${n - found} of ${n} keys not found`)
    return opsPerSec(n, elapsed)
  }
}

const map = reads(async (records) => {
  const m = new Map<string, SmallRecord>()
  for (const r of records) m.set(r.id, r)
  return (key) => m.get(key)
})

const homedb = reads(async (records) => {
  const { openDb } = await import('@homedb/tables')
  const db = await openDb(RowsSchema, { durability: 'memory' })
  for (let i = 0; i < records.length; i += BUILD_TXN) {
    db.transaction(() => {
      for (let j = i; j < Math.min(records.length, i + BUILD_TXN); j++) db.rows.insert(records[j]!.id, records[j]!)
    })
  }
  await db.sync()
  const rows = db.rows
  return (key) => rows.get(key)
})

const sqlite = reads(async (records, ctx) => {
  const { pack, unpack } = await import('msgpackr')
  const db = await openSqlite(ctx.childDir(), 'NORMAL')
  const insert = db.prepare<[string, Buffer]>('INSERT INTO rows (id, body) VALUES (?, ?)')
  db.transaction(() => {
    for (const r of records) insert.run(r.id, pack(r))
  })()
  const select = db.prepare<[string], { body: Buffer }>('SELECT body FROM rows WHERE id = ?')
  return (key) => {
    const row = select.get(key)
    return row === undefined ? undefined : unpack(row.body)
  }
})

const lmdb = reads(async (records, ctx) => {
  const { open } = await import('lmdb')
  const db = open<SmallRecord, string>({ path: join(ctx.childDir(), 'data.mdb'), encoding: 'msgpack' })
  await db.transaction(() => {
    for (const r of records) db.put(r.id, r)
  })
  await db.flushed
  return (key) => db.get(key)
})

const tinybase = reads(async (records) => {
  const { createStore } = await import('tinybase')
  const store = createStore()
  store.transaction(() => {
    for (const r of records) {
      store.setRow('rows', r.id, r as unknown as Record<string, string | number | boolean | string[]>)
    }
  })
  return (key) => (store.hasRow('rows', key) ? store.getRow('rows', key) : undefined)
})

const lokijs = reads(async (records) => {
  const { default: Loki } = await import('lokijs')
  const db = new Loki('reads.db')
  const rows = db.addCollection<SmallRecord>('rows', { unique: ['id'] })
  rows.insert(records)
  return (key) => rows.by('id', key)
})

/** Random point reads on N rows. */
export const pointReads = defineWorkload<PointReadsParams>({
  name: 'point-reads',
  title: 'Random point reads by key',
  description:
    'A store of N small records is built once per child process (untimed); each run looks up the same ' +
    'pseudo-random sequence of existing ids and checks every lookup found its row. `map`: `Map.get` (the floor). ' +
    '`homedb`: `db.rows.get(id)` on a lookupTable (built in `memory` durability; reads never touch the log, so ' +
    'the mode does not matter). `sqlite`: better-sqlite3 prepared `SELECT body FROM rows WHERE id = ?` on a ' +
    '`WITHOUT ROWID` table, plus decoding the msgpack body into the object (what the caller needs). `lmdb`: ' +
    '`db.get(id)` with msgpack encoding (decodes on every get). `tinybase`: `hasRow` + `getRow` (which builds a ' +
    'fresh row object). `lokijs`: `collection.by("id", id)` on a unique index (in memory).',
  unit: 'opsPerSec',
  params: (quick) => ({ rows: quick ? 100_000 : 1_000_000, reads: quick ? 200_000 : 500_000 }),
  capMs: (quick) => (quick ? 20_000 : 60_000),
  repeats: 3,
  systems: { map, homedb, sqlite, lmdb, tinybase, lokijs },
  ratios: {
    'point-reads map/homedb (cost)': { of: 'map', to: 'homedb' },
    'point-reads homedb/sqlite': { of: 'homedb', to: 'sqlite' },
    'point-reads homedb/lmdb': { of: 'homedb', to: 'lmdb' },
    'point-reads homedb/tinybase': { of: 'homedb', to: 'tinybase' },
    'point-reads homedb/lokijs': { of: 'homedb', to: 'lokijs' },
  },
  goals: {
    'point-reads ≤ 1.5× Map.get': {
      text: '`get` costs ≤ 1.5× a plain `Map.get` (Map reads/s ÷ homedb reads/s)',
      source: 'issue 4',
      ratio: 'point-reads map/homedb (cost)',
      atMost: 1.5,
    },
    'point-reads ≥ 5× better-sqlite3': {
      text: 'point reads ≥ 5× better-sqlite3',
      source: 'issue 7',
      ratio: 'point-reads homedb/sqlite',
      atLeast: 5,
    },
    'point-reads ≥ 1.5× lmdb': {
      text: 'point reads ≥ 1.5× lmdb',
      source: 'issue 7',
      ratio: 'point-reads homedb/lmdb',
      atLeast: 1.5,
    },
  },
})
