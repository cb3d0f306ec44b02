// First workload: N small records written in one batch by a plain Map + JSON file, better-sqlite3 and lmdb.
// It proves the harness end to end (child processes, caps, repeats, RSS, report) before homedb systems join.
// Peer libraries are imported inside each system, so a child process loads only the library it measures.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { diskBytes } from '../disk-usage.js'
import { smallRecords } from '../records.js'
import { defineWorkload, opsPerSec } from '../workload.js'

type BaselineWriteParams = {
  /** Records written per run. */
  readonly rows: number
}

/** Small records written in one transaction at OS durability; `diskBytesPerRow` is a secondary metric. */
export const baselineWrite = defineWorkload<BaselineWriteParams>({
  name: 'baseline-write',
  title: 'Write N small records in one batch',
  description:
    'Each run writes the same N small records (~110 bytes of JSON each) into an empty store as one batch and waits ' +
    'until the batch is handed to the OS: it survives a process crash, not a power cut (no fsync anywhere). ' +
    '`map-fs`: `Map.set` per record, then one `fs.writeFileSync` of the whole map as JSON. ' +
    '`better-sqlite3`: WAL, `synchronous=NORMAL`, one prepared `INSERT` per record (JSON text) in one transaction. ' +
    '`lmdb`: msgpack encoding, `noSync`, one `put` per record in one `transaction`. ' +
    'Opening and closing the store are not timed. `diskBytesPerRow` counts every file of the store right after the ' +
    'batch (SQLite\u2019s WAL included, before any checkpoint).',
  unit: 'opsPerSec',
  params: (quick) => ({ rows: quick ? 50_000 : 200_000 }),
  capMs: (quick) => (quick ? 30_000 : 120_000),
  ratios: {
    'baseline-write better-sqlite3/map-fs': { of: 'better-sqlite3', to: 'map-fs' },
    'baseline-write lmdb/map-fs': { of: 'lmdb', to: 'map-fs' },
  },
  systems: {
    'map-fs': async ({ rows }, ctx) => {
      const records = smallRecords(rows)
      const file = join(ctx.tmpDir(), 'data.json')
      const map = new Map<string, (typeof records)[number]>()
      const start = performance.now()
      for (const record of records) map.set(record.id, record)
      writeFileSync(file, JSON.stringify([...map.values()]))
      const elapsed = performance.now() - start
      return opsPerSec(rows, elapsed, { diskBytesPerRow: diskBytes(file) / rows })
    },

    'better-sqlite3': async ({ rows }, ctx) => {
      const records = smallRecords(rows)
      const { default: Database } = await import('better-sqlite3')
      const dir = ctx.tmpDir()
      const db = new Database(join(dir, 'data.sqlite'))
      try {
        db.pragma('journal_mode = WAL')
        db.pragma('synchronous = NORMAL')
        db.exec('CREATE TABLE records (id TEXT PRIMARY KEY, body TEXT NOT NULL)')
        const insert = db.prepare<[string, string]>('INSERT INTO records (id, body) VALUES (?, ?)')
        const insertAll = db.transaction((batch: typeof records) => {
          for (const record of batch) insert.run(record.id, JSON.stringify(record))
        })
        const start = performance.now()
        insertAll(records)
        const elapsed = performance.now() - start
        return opsPerSec(rows, elapsed, { diskBytesPerRow: diskBytes(dir) / rows })
      } finally {
        db.close()
      }
    },

    lmdb: async ({ rows }, ctx) => {
      const records = smallRecords(rows)
      const { open } = await import('lmdb')
      const dir = ctx.tmpDir()
      const db = open<(typeof records)[number], string>({
        path: join(dir, 'data.mdb'),
        encoding: 'msgpack',
        noSync: true,
      })
      try {
        const start = performance.now()
        await db.transaction(() => {
          for (const record of records) db.put(record.id, record)
        })
        const elapsed = performance.now() - start
        return opsPerSec(rows, elapsed, { diskBytesPerRow: diskBytes(dir) / rows })
      } finally {
        await db.close()
      }
    },
  },
})
