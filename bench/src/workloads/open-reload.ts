// Workload (issues 4 and 7): open a persisted store of N rows and have every row usable in memory: homedb's replay
// against decoding the same payload bytes alone, and against each peer's open (+ full scan where the data stays
// on disk). Stores are built once per child, untimed; warm-up runs open a small store.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { diskBytes } from '../disk-usage.js'
import { type SmallRecord, smallRecords } from '../records.js'
import { defineWorkload, type Sample, type SystemRun } from '../workload.js'
import { RowsSchema } from './support/homedb.js'
import { OPEN_GAP } from './support/open-gap.js'
import { lokiClose, lokiLoad } from './support/peers.js'
import { openSqlite } from './support/sqlite.js'
import {
  BUILD_TXN,
  buildHomedb,
  buildJsonFile,
  buildLmdb,
  buildLoki,
  buildLowdb,
  buildSqlite,
  buildTinybaseFile,
} from './support/stores.js'
import { TABLES_PACKR_OPTIONS } from './support/tables-format.js'

type OpenReloadParams = {
  readonly rows: number
  /** Rows of the store warm-up runs open. */
  readonly warmupRows: number
}

/**
 * A system: `build` writes a store of `records` under `dir` (untimed); `prepare` (optional, untimed, once per store)
 * reads what the timed part needs; `load` opens the store and returns its row count.
 */
interface Loader<S = undefined> {
  build(dir: string, records: readonly SmallRecord[]): Promise<void>
  prepare?(dir: string): Promise<S>
  /** Opens and loads; returns the row count seen and optional extra metrics. */
  load(dir: string, prepared: S): Promise<{ rows: number; metrics?: Record<string, number> }>
}

const stores = new Map<number, { dir: string; prepared: unknown }>()

function system<S>(loader: Loader<S>): SystemRun<OpenReloadParams> {
  return async (p, ctx) => {
    const rows = ctx.warmup ? p.warmupRows : p.rows
    let store = stores.get(rows)
    if (store === undefined) {
      const dir = join(ctx.childDir(), `rows-${rows}`)
      mkdirSync(dir)
      await loader.build(dir, smallRecords(rows))
      store = { dir, prepared: await loader.prepare?.(dir) }
      stores.set(rows, store)
    }
    const { dir } = store
    const start = performance.now()
    const loaded = await loader.load(dir, store.prepared as S)
    const ms = performance.now() - start
    if (loaded.rows !== rows) throw new Error(`loaded ${loaded.rows} rows, expected ${rows}`)
    const sample: Sample = { value: ms, metrics: { ...loaded.metrics, diskMB: diskBytes(dir) / 1e6 } }
    return sample
  }
}

const homedb: Loader = {
  build: (dir, records) => buildHomedb(join(dir, 'db'), records),
  async load(dir) {
    const { openDb } = await import('@homedb/tables')
    const db = await openDb(RowsSchema, { dir: join(dir, 'db') })
    const rows = db.rows.size
    await db.close()
    return { rows }
  },
}

/** Decodes the homedb log's own commit payloads (read out of the log untimed), nothing else. */
const msgpackrDecode: Loader<Uint8Array[]> = {
  build: (dir, records) => buildHomedb(join(dir, 'db'), records),
  async prepare(dir) {
    const { openLog } = await import('@homedb/log')
    const log = await openLog(join(dir, 'db'), { readOnly: true })
    const payloads: Uint8Array[] = []
    for await (const c of log.read()) payloads.push(c.payload)
    await log.close()
    return payloads
  },
  async load(_dir, payloads) {
    const { Packr } = await import('msgpackr')
    const packr = new Packr({ ...TABLES_PACKR_OPTIONS })
    let rows = 0
    for (const payload of payloads) rows += (packr.unpack(payload) as unknown[]).length
    return { rows }
  },
}

/**
 * The same payloads decoded and kept: each operation's value set in a Map under its key, as any open that ends with
 * the rows in JavaScript memory must. Keeping a million decoded rows alive is what makes the garbage collector copy
 * and promote them (young-generation scavenges); decoding alone lets them die young.
 */
const msgpackrDecodeKept: Loader<Uint8Array[]> = {
  build: msgpackrDecode.build,
  prepare: msgpackrDecode.prepare!,
  async load(_dir, payloads) {
    const { Packr } = await import('msgpackr')
    const packr = new Packr({ ...TABLES_PACKR_OPTIONS })
    const map = new Map<unknown, unknown>()
    for (const payload of payloads) {
      const ops = packr.unpack(payload) as unknown[][]
      for (const op of ops) map.set(op[2], op[3])
    }
    return { rows: map.size }
  },
}

/** The log's part of homedb's open: open the same log and read every commit (CRC and chain checked), in batches. */
const logRead: Loader = {
  build: (dir, records) => buildHomedb(join(dir, 'db'), records),
  async load(dir) {
    const { openLog } = await import('@homedb/log')
    const log = await openLog(join(dir, 'db'), { readOnly: true })
    let commits = 0
    for await (const batch of log.readBatches()) commits += batch.length
    await log.close()
    // Each commit of the store holds BUILD_TXN rows: the row count this read made available to a decoder.
    return { rows: commits * BUILD_TXN, metrics: { commits } }
  },
}

const sqlite: Loader = {
  build: buildSqlite,
  async load(dir) {
    const { unpack } = await import('msgpackr')
    const db = await openSqlite(dir, 'NORMAL')
    const map = new Map<string, SmallRecord>()
    for (const row of db.prepare<[], { id: string; body: Buffer }>('SELECT id, body FROM rows').iterate()) {
      map.set(row.id, unpack(row.body) as SmallRecord)
    }
    db.close()
    return { rows: map.size }
  },
}

const lmdb: Loader = {
  build: buildLmdb,
  async load(dir) {
    const { open } = await import('lmdb')
    const start = performance.now()
    const db = open<SmallRecord, string>({ path: join(dir, 'data.mdb'), encoding: 'msgpack' })
    db.get('u00000000')
    const openOnlyMs = performance.now() - start
    const map = new Map<string, SmallRecord>()
    for (const { key, value } of db.getRange()) map.set(key, value)
    await db.close()
    return { rows: map.size, metrics: { openOnlyMs } }
  },
}

const tinybase: Loader = {
  build: (dir, records) => buildTinybaseFile(join(dir, 'store.json'), records),
  async load(dir) {
    const { createStore } = await import('tinybase')
    const { createFilePersister } = await import('tinybase/persisters/persister-file')
    const store = createStore()
    const persister = createFilePersister(store, join(dir, 'store.json'))
    await persister.load()
    const rows = store.getRowCount('rows')
    await persister.destroy()
    return { rows }
  },
}

const lokijs: Loader = {
  build: (dir, records) => buildLoki(join(dir, 'loki.db'), records),
  async load(dir) {
    const { default: Loki } = await import('lokijs')
    const db = new Loki(join(dir, 'loki.db'), { adapter: new Loki.LokiFsAdapter() })
    await lokiLoad(db)
    const rows = db.getCollection<SmallRecord>('rows').count()
    await lokiClose(db)
    return { rows }
  },
}

const lowdb: Loader = {
  build: (dir, records) => buildLowdb(join(dir, 'db.json'), records),
  async load(dir) {
    const { JSONFilePreset } = await import('lowdb/node')
    const db = await JSONFilePreset<{ rows: Record<string, SmallRecord> }>(join(dir, 'db.json'), { rows: {} })
    return { rows: Object.keys(db.data.rows).length }
  },
}

const mapFs: Loader = {
  build: async (dir, records) => buildJsonFile(join(dir, 'rows.json'), records),
  async load(dir) {
    const records = JSON.parse(readFileSync(join(dir, 'rows.json'), 'utf8')) as SmallRecord[]
    const map = new Map<string, SmallRecord>()
    for (const r of records) map.set(r.id, r)
    return { rows: map.size }
  },
}

const IN_MEMORY_PEERS = ['sqlite', 'lmdb', 'tinybase', 'lokijs', 'lowdb']

/** Open and reload a store of N rows. */
export const openReload = defineWorkload<OpenReloadParams>({
  name: 'open-reload',
  title: 'Open a store of N rows and load it into memory',
  description:
    'Each system opens a store of N small records written beforehand (untimed; warm page cache) and ends with ' +
    'every row usable from JavaScript; the figure is the time from open to the last row. `homedb`: ' +
    '`openDb(schema, { dir })` replaying a log written in transactions of 1 000 rows (default `freeze: true`). ' +
    '`msgpackr-decode`: the same commit payloads, read out of that log untimed, decoded in a loop with the ' +
    'msgpackr options the tables codec pins (the floor for replay: no I/O, no CRC, no tables). ' +
    '`msgpackr-decode-kept`: the same, keeping each operation\u2019s value in a `Map` under its key (the floor ' +
    'for an open that ends with the rows in memory: the garbage collector now copies and promotes every row ' +
    'kept, which rows decoded and dropped never cost). `log-read`: the ' +
    'log\u2019s part of homedb\u2019s open: a read-only `openLog` of the same log and `readBatches()` over every ' +
    'commit, CRC and chain checked, nothing decoded. `sqlite`: open + ' +
    '`SELECT id, body FROM rows` decoding each msgpack body into a `Map`. `lmdb`: open + `getRange()` into a ' +
    '`Map` (`openOnlyMs`: open + one `get`, the lazy mmap open). `tinybase`: file persister `load()`. `lokijs`: ' +
    '`loadDatabase` with the fs adapter. `lowdb`: `JSONFilePreset` (read + `JSON.parse`). `map-fs`: ' +
    '`readFileSync` + `JSON.parse` of an array + `Map.set` (the floor for a JSON file). Warm-up runs open a small ' +
    'store of the same kind. The goal compares homedb with the best of the peers that end with the data in ' +
    'JavaScript memory (sqlite and lmdb with their full scans, tinybase, lokijs, lowdb).',
  unit: 'ms',
  params: (quick) => ({ rows: quick ? 100_000 : 1_000_000, warmupRows: 10_000 }),
  capMs: (quick) => (quick ? 30_000 : 120_000),
  budgetMs: (quick) => (quick ? 10_000 : 20_000),
  repeats: 3,
  systems: {
    homedb: system(homedb),
    'msgpackr-decode': system(msgpackrDecode),
    'msgpackr-decode-kept': system(msgpackrDecodeKept),
    'log-read': system(logRead),
    sqlite: system(sqlite),
    lmdb: system(lmdb),
    tinybase: system(tinybase),
    lokijs: system(lokijs),
    lowdb: system(lowdb),
    'map-fs': system(mapFs),
  },
  ratios: {
    'open-reload homedb/msgpackr-decode (time)': { of: 'homedb', to: 'msgpackr-decode' },
    'open-reload homedb/msgpackr-decode-kept (time)': { of: 'homedb', to: 'msgpackr-decode-kept' },
    'open-reload msgpackr-decode-kept/msgpackr-decode (time)': { of: 'msgpackr-decode-kept', to: 'msgpackr-decode' },
    'open-reload log-read/homedb (time)': { of: 'log-read', to: 'homedb' },
    'open-reload homedb/best in-memory peer (time)': { of: 'homedb', to: IN_MEMORY_PEERS },
    'open-reload homedb/sqlite (time)': { of: 'homedb', to: 'sqlite' },
    'open-reload homedb/lmdb (time)': { of: 'homedb', to: 'lmdb' },
    'open-reload homedb/map-fs (time)': { of: 'homedb', to: 'map-fs' },
  },
  goals: {
    'open-reload ≤ 2× msgpackr-decode': {
      text: 'open of N rows from a long log ≤ 2× the time of msgpackr-decoding the same commit payloads',
      source: 'issue 14',
      ratio: 'open-reload homedb/msgpackr-decode (time)',
      atMost: 2,
      whenMissed: OPEN_GAP,
    },
    'open-reload ≥ 1× best in-memory peer': {
      text: 'open/reload at least as fast as the best peer that keeps the data in memory (time ratio ≤ 1)',
      source: 'issue 7',
      ratio: 'open-reload homedb/best in-memory peer (time)',
      atMost: 1,
      whenMissed:
        'homedb and the best in-memory peer finish within each other\u2019s spread (see the table): both end ' +
        'with a million rows kept in a Map, which costs about what decoding the same payloads into a Map costs ' +
        '(`msgpackr-decode-kept`), the floor of any open that keeps the rows',
    },
  },
})
