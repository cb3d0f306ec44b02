// better-sqlite3 set up the same way in every workload: WAL, one table of (id TEXT PRIMARY KEY, body BLOB) holding
// each record msgpack-encoded (the codec lmdb and homedb use too), and the synchronous level under test.
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'

/** `FULL`: each commit fsyncs the WAL (equal to homedb 'fsync'); `NORMAL`: WAL synced only at checkpoints. */
export type SqliteSync = 'FULL' | 'NORMAL'

/** Opens (or creates) `dir/data.sqlite` in WAL mode with the given synchronous level and the rows table. */
export async function openSqlite(dir: string, sync: SqliteSync): Promise<BetterSqlite3.Database> {
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(join(dir, 'data.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${sync}`)
  db.exec('CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID')
  return db
}
