// Workload (issues 4 and 7): memory and disk per row. Each system stores N small records (persisted the way it
// persists them) in a fresh child process; RSS growth after full GCs, divided by N, is the figure.
import { join } from 'node:path'
import { diskBytes } from '../disk-usage.js'
import { type SmallRecord, smallRecords } from '../records.js'
import { defineWorkload, type SystemRun } from '../workload.js'
import { RowsSchema } from './support/homedb.js'
import { fullGc, settle } from './support/measure.js'
import { lokiSave } from './support/peers.js'
import { openSqlite } from './support/sqlite.js'
import { BUILD_TXN } from './support/stores.js'

type RssDiskParams = { readonly rows: number }

/** What a system keeps alive after storing the rows, and the path of what it wrote (if anything). */
interface Stored {
  readonly keep: unknown
  readonly path?: string
  /** Runs after the measurement; returns more metrics (homedb: disk bytes per row after a compaction). */
  after?(): Promise<Record<string, number>>
}

/**
 * Measures RSS before generating the records and after storing them (records array dropped, two full GCs and
 * a short pause each time), so the growth is what the store holds: its own structures plus the record objects
 * it retains (Map, homedb, LokiJS keep the given objects; the others keep copies or nothing in JS memory).
 */
function system(store: (records: SmallRecord[], dir: string) => Promise<Stored>): SystemRun<RssDiskParams> {
  return async (p, ctx) => {
    const dir = ctx.tmpDir()
    fullGc()
    await settle()
    const before = process.memoryUsage()
    let records: SmallRecord[] | undefined = smallRecords(p.rows)
    const stored = await store(records, dir)
    records = undefined
    fullGc()
    await settle()
    fullGc()
    const after = process.memoryUsage()
    const metrics: Record<string, number> = {
      heapUsedPerRow: (after.heapUsed - before.heapUsed) / p.rows,
      externalPerRow: (after.external - before.external) / p.rows,
    }
    if (stored.path !== undefined) metrics.diskBytesPerRow = diskBytes(stored.path) / p.rows
    // The store stays reachable (through `stored`) until after the measurement.
    if (stored.keep === undefined) throw new Error('nothing kept')
    Object.assign(metrics, await stored.after?.())
    return { value: (after.rss - before.rss) / p.rows, metrics }
  }
}

const map = system(async (records) => {
  const m = new Map<string, SmallRecord>()
  for (const r of records) m.set(r.id, r)
  return { keep: m }
})

const homedb = system(async (records, dir) => {
  const { openDb } = await import('@homedb/tables')
  const db = await openDb(RowsSchema, { dir, durability: 'fsync', autoCompact: false })
  for (let i = 0; i < records.length; i += BUILD_TXN) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(records.length, i + BUILD_TXN); j++) db.rows.insert(records[j]!.id, records[j]!)
    })
  }
  return {
    keep: db,
    path: dir,
    async after() {
      await db.compact()
      return { diskBytesPerRowCompacted: diskBytes(dir) / records.length }
    },
  }
})

const sqlite = system(async (records, dir) => {
  const { pack } = await import('msgpackr')
  const db = await openSqlite(dir, 'NORMAL')
  const insert = db.prepare<[string, Buffer]>('INSERT INTO rows (id, body) VALUES (?, ?)')
  const insertMany = db.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) insert.run(records[j]!.id, pack(records[j]!))
  })
  for (let i = 0; i < records.length; i += BUILD_TXN) insertMany(i, Math.min(records.length, i + BUILD_TXN))
  return { keep: db, path: dir }
})

const lmdb = system(async (records, dir) => {
  const { open } = await import('lmdb')
  const db = open<SmallRecord, string>({ path: join(dir, 'data.mdb'), encoding: 'msgpack' })
  for (let i = 0; i < records.length; i += BUILD_TXN) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(records.length, i + BUILD_TXN); j++) db.put(records[j]!.id, records[j]!)
    })
  }
  await db.flushed
  return { keep: db, path: dir }
})

const tinybase = system(async (records, dir) => {
  const { createStore } = await import('tinybase')
  const { createFilePersister } = await import('tinybase/persisters/persister-file')
  const store = createStore()
  for (let i = 0; i < records.length; i += BUILD_TXN) {
    store.transaction(() => {
      for (let j = i; j < Math.min(records.length, i + BUILD_TXN); j++) {
        store.setRow('rows', records[j]!.id, records[j] as unknown as Record<string, string | number | boolean>)
      }
    })
  }
  const file = join(dir, 'store.json')
  const persister = createFilePersister(store, file)
  await persister.save()
  return { keep: [store, persister], path: file }
})

const lokijs = system(async (records, dir) => {
  const { default: Loki } = await import('lokijs')
  const file = join(dir, 'loki.db')
  const db = new Loki(file, { adapter: new Loki.LokiFsAdapter() })
  const rows = db.addCollection<SmallRecord>('rows', { unique: ['id'] })
  for (let i = 0; i < records.length; i += BUILD_TXN) rows.insert(records.slice(i, i + BUILD_TXN))
  await lokiSave(db)
  return { keep: db, path: file }
})

const lowdb = system(async (records, dir) => {
  const { JSONFilePreset } = await import('lowdb/node')
  const file = join(dir, 'db.json')
  const db = await JSONFilePreset<{ rows: Record<string, SmallRecord> }>(file, { rows: {} })
  for (const r of records) db.data.rows[r.id] = r
  await db.write()
  return { keep: db, path: file }
})

/** RSS and disk bytes per row. */
export const rssDisk = defineWorkload<RssDiskParams>({
  name: 'rss-disk',
  title: 'Memory (RSS) and disk bytes per row',
  description:
    'In a fresh child process each system stores N small records and keeps its store open; the figure is the ' +
    'growth of the process RSS from before the records were generated to after they were stored (the records ' +
    'array dropped, two full GCs and a pause on both sides), divided by N: the loader and the module itself are ' +
    'not counted. `heapUsedPerRow` and `externalPerRow` split the JS heap part out; `diskBytesPerRow` is every ' +
    'file of the store afterwards (the bytes each file stores: holes in a sparse file, such as a preallocated ' +
    'segment\u2019s unwritten rest, do not count). `map`: a `Map` of the records (the floor, nothing on disk). `homedb`: ' +
    "`durability: 'fsync'`, transactions of 1 000 rows, automatic compaction off, so `diskBytesPerRow` is the log " +
    'alone; `diskBytesPerRowCompacted` is the directory after a `db.compact()` taken once RSS was measured. ' +
    '`sqlite`: WAL, NORMAL, ' +
    'msgpack bodies (the WAL is counted as it stands, before a checkpoint). `lmdb`: msgpack; its RSS includes the ' +
    'pages of the memory-mapped file it touched. `tinybase`, `lokijs`, `lowdb`: in memory, saved once to their ' +
    'file. One measured run per system (no warm-up): a second build in the same process would reuse the freed ' +
    'heap and understate the growth.',
  unit: 'bytesPerRow',
  params: (quick) => ({ rows: quick ? 100_000 : 1_000_000 }),
  capMs: (quick) => (quick ? 30_000 : 90_000),
  warmup: 0,
  repeats: 1,
  systems: { map, homedb, sqlite, lmdb, tinybase, lokijs, lowdb },
  ratios: {
    'rss-disk homedb/map (RSS per row)': { of: 'homedb', to: 'map' },
    'rss-disk homedb/best in-memory peer (RSS per row)': { of: 'homedb', to: ['tinybase', 'lokijs', 'lowdb'] },
    'rss-disk homedb/sqlite (RSS per row)': { of: 'homedb', to: 'sqlite' },
    'rss-disk homedb/lmdb (RSS per row)': { of: 'homedb', to: 'lmdb' },
  },
})
