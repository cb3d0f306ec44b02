// Builds the same persisted store of small records for each system (untimed setup shared by the open-reload and
// rss-disk workloads), in the format each system loads from.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SmallRecord } from '../../records.js'
import { RowsSchema } from './homedb.js'
import { lokiClose, lokiSave } from './peers.js'
import { openSqlite } from './sqlite.js'

/** Rows per transaction when building stores. */
export const BUILD_TXN = 1_000

/**
 * A homedb db at `dir` holding `records`, written in transactions of 1 000 rows with `'os'` durability and no
 * automatic compaction, so opening it replays the whole log.
 */
export async function buildHomedb(dir: string, records: readonly SmallRecord[]): Promise<void> {
  const { openDb } = await import('@homedb/tables')
  const db = await openDb(RowsSchema, { dir, durability: 'os', autoCompact: false })
  for (let i = 0; i < records.length; i += BUILD_TXN) {
    db.transaction(() => {
      for (let j = i; j < Math.min(records.length, i + BUILD_TXN); j++) db.rows.insert(records[j]!.id, records[j]!)
    })
  }
  await db.close()
}

/** better-sqlite3 (WAL, NORMAL) at `dir` holding `records` msgpack-encoded, checkpointed and closed. */
export async function buildSqlite(dir: string, records: readonly SmallRecord[]): Promise<void> {
  const { pack } = await import('msgpackr')
  const db = await openSqlite(dir, 'NORMAL')
  const insert = db.prepare<[string, Buffer]>('INSERT INTO rows (id, body) VALUES (?, ?)')
  const insertMany = db.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) insert.run(records[j]!.id, pack(records[j]!))
  })
  for (let i = 0; i < records.length; i += BUILD_TXN) insertMany(i, Math.min(records.length, i + BUILD_TXN))
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

/** lmdb (msgpack encoding) at `dir/data.mdb` holding `records`, flushed and closed. */
export async function buildLmdb(dir: string, records: readonly SmallRecord[]): Promise<void> {
  const { open } = await import('lmdb')
  const db = open<SmallRecord, string>({ path: join(dir, 'data.mdb'), encoding: 'msgpack' })
  for (let i = 0; i < records.length; i += BUILD_TXN * 100) {
    await db.transaction(() => {
      for (let j = i; j < Math.min(records.length, i + BUILD_TXN * 100); j++) db.put(records[j]!.id, records[j]!)
    })
  }
  await db.flushed
  await db.close()
}

/**
 * A TinyBase file-persister file at `file` holding `records` in table `rows`. Building 1 M rows through the store
 * takes TinyBase tens of seconds, so the file is written directly as `[tables, values]` JSON (array cells are stored
 * as strings: U+FFFD followed by their JSON), after checking on a small store that this is byte for byte what the
 * persister writes.
 */
export async function buildTinybaseFile(file: string, records: readonly SmallRecord[]): Promise<void> {
  const { createStore } = await import('tinybase')
  const { createFilePersister } = await import('tinybase/persisters/persister-file')
  const { readFileSync } = await import('node:fs')
  const sample = records.slice(0, 3)
  const store = createStore()
  for (const r of sample) store.setRow('rows', r.id, r as unknown as Record<string, string | number | boolean>)
  const persister = createFilePersister(store, `${file}.check`)
  await persister.save()
  await persister.destroy()
  const expected = readFileSync(`${file}.check`, 'utf8')
  const table = (rows: readonly SmallRecord[]): Record<string, unknown> =>
    Object.fromEntries(rows.map((r) => [r.id, { ...r, tags: `\uFFFD${JSON.stringify(r.tags)}` }]))
  if (JSON.stringify([{ rows: table(sample) }, {}]) !== expected) {
    throw new Error(`TinyBase's file format changed: ${expected.slice(0, 200)}`)
  }
  writeFileSync(file, JSON.stringify([{ rows: table(records) }, {}]))
}

/** A LokiJS database file (fs adapter) with collection `rows` (unique index on `id`) holding `records`. */
export async function buildLoki(file: string, records: readonly SmallRecord[]): Promise<void> {
  const { default: Loki } = await import('lokijs')
  const db = new Loki(file, { adapter: new Loki.LokiFsAdapter() })
  db.addCollection<SmallRecord>('rows', { unique: ['id'] }).insert(records.map((r) => ({ ...r })))
  await lokiSave(db)
  await lokiClose(db)
}

/** A lowdb JSON file `{ rows: { id: record } }`. */
export async function buildLowdb(file: string, records: readonly SmallRecord[]): Promise<void> {
  const { JSONFilePreset } = await import('lowdb/node')
  const db = await JSONFilePreset<{ rows: Record<string, SmallRecord> }>(file, { rows: {} })
  for (const r of records) db.data.rows[r.id] = r
  await db.write()
}

/** A plain JSON array of the records (the map-fs baseline's file). */
export function buildJsonFile(file: string, records: readonly SmallRecord[]): void {
  writeFileSync(file, JSON.stringify(records))
}
