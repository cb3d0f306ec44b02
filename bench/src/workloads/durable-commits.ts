// Workload (issues 3 and 7): durable single-row commits with 1, 16 and 256 concurrent writers, each awaiting its
// own commit before the next, and the fdatasync calls each commit cost where they can be counted.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { recordKey, type SmallRecord, smallRecords } from '../records.js'
import { defineWorkload, type GoalSpec, opsPerSec, type RatioSpec, type SystemRun } from '../workload.js'
import { countingFileLayer, flushes } from './support/counting-file-layer.js'
import { RowsSchema } from './support/homedb.js'
import { concurrentCommits } from './support/measure.js'
import { openSqlite, type SqliteSync } from './support/sqlite.js'

type DurableCommitsParams = {
  /** How long each measured run keeps committing, in ms (warm-up runs use a third of it). */
  readonly durationMs: number
  /** Distinct records cycled through; every commit still writes its own key. */
  readonly pool: number
}

const WRITERS = [1, 16, 256]

const duration = (p: DurableCommitsParams, ctx: { warmup: boolean }): number =>
  ctx.warmup ? p.durationMs / 3 : p.durationMs

type Setup = (
  records: readonly SmallRecord[],
  dir: string,
) => Promise<{ commit: (k: number) => Promise<unknown> | undefined; flushes?: () => number; close(): Promise<void> }>

/** Turns a per-system setup into a run: `writers` loops for the run's duration, commits/s and flushes/commit. */
function run(writers: number, setup: Setup): SystemRun<DurableCommitsParams> {
  return async (p, ctx) => {
    const records = smallRecords(p.pool)
    const store = await setup(records, ctx.tmpDir())
    try {
      const before = store.flushes?.() ?? 0
      const { commits, elapsedMs } = await concurrentCommits(writers, duration(p, ctx), store.commit)
      const metrics: Record<string, number> = { commits }
      if (store.flushes !== undefined) metrics.fdatasyncPerCommit = (store.flushes() - before) / commits
      return opsPerSec(commits, elapsedMs, metrics)
    } finally {
      await store.close()
    }
  }
}

const homedb: Setup = async (records, dir) => {
  const { nodeFileLayer } = await import('@homedb/log')
  const { openDb } = await import('@homedb/tables')
  const { layer, counts } = countingFileLayer(nodeFileLayer)
  const db = await openDb(RowsSchema, { dir, durability: 'fsync', fileLayer: layer })
  return {
    commit(k) {
      db.rows.insert(recordKey(k), records[k % records.length]!)
      return db.sync()
    },
    flushes: () => flushes(counts),
    close: () => db.close(),
  }
}

const homedbLog: Setup = async (records, dir) => {
  const { nodeFileLayer, openLog } = await import('@homedb/log')
  const { pack } = await import('msgpackr')
  const { layer, counts } = countingFileLayer(nodeFileLayer)
  const log = await openLog(dir, { durability: 'fsync', fileLayer: layer })
  return {
    commit(k) {
      log.append(pack([recordKey(k), records[k % records.length]!]))
      return log.sync()
    },
    flushes: () => flushes(counts),
    close: () => log.close(),
  }
}

const sqlite =
  (sync: SqliteSync): Setup =>
  async (records, dir) => {
    const { pack } = await import('msgpackr')
    const db = await openSqlite(dir, sync)
    const insert = db.prepare<[string, Buffer]>('INSERT INTO rows (id, body) VALUES (?, ?)')
    return {
      commit(k) {
        insert.run(recordKey(k), pack(records[k % records.length]!))
        return undefined
      },
      close: async () => void db.close(),
    }
  }

const lmdb: Setup = async (records, dir) => {
  const { open } = await import('lmdb')
  const db = open<SmallRecord, string>({ path: join(dir, 'data.mdb'), encoding: 'msgpack' })
  return {
    async commit(k) {
      await db.put(recordKey(k), records[k % records.length]!)
      await db.flushed
    },
    close: () => db.close(),
  }
}

const lowdb: Setup = async (records, dir) => {
  const { JSONFilePreset } = await import('lowdb/node')
  const db = await JSONFilePreset<{ rows: Record<string, SmallRecord> }>(join(dir, 'db.json'), { rows: {} })
  return {
    commit(k) {
      db.data.rows[recordKey(k)] = records[k % records.length]!
      return db.write()
    },
    close: async () => {},
  }
}

/** The floor: one plain `write` + `fdatasync` per commit, nothing else (synchronous, so one writer). */
const fdatasyncLoop: SystemRun<DurableCommitsParams> = async (p, ctx) => {
  const { pack } = await import('msgpackr')
  const records = smallRecords(p.pool)
  const fd = openSync(join(ctx.tmpDir(), 'plain.log'), 'wx')
  let syncs = 0
  try {
    const { commits, elapsedMs } = await concurrentCommits(1, duration(p, ctx), (k) => {
      const bytes = pack([recordKey(k), records[k % records.length]!])
      writeSync(fd, bytes)
      fdatasyncSync(fd)
      syncs++
      return undefined
    })
    return opsPerSec(commits, elapsedMs, { commits, fdatasyncPerCommit: syncs / commits })
  } finally {
    closeSync(fd)
  }
}

const SETUPS: Readonly<Record<string, Setup>> = {
  homedb,
  'homedb-log': homedbLog,
  'sqlite-full': sqlite('FULL'),
  'sqlite-normal': sqlite('NORMAL'),
  lmdb,
  lowdb,
}

const systems: Record<string, SystemRun<DurableCommitsParams>> = {}
for (const writers of WRITERS) {
  for (const [name, setup] of Object.entries(SETUPS)) systems[`${name}-w${writers}`] = run(writers, setup)
}
systems['fdatasync-loop'] = fdatasyncLoop

const ratios: Record<string, RatioSpec> = {}
for (const w of WRITERS) {
  ratios[`durable-commits homedb/best equal-durability peer w${w}`] = {
    of: `homedb-w${w}`,
    to: [`sqlite-full-w${w}`, `lmdb-w${w}`],
  }
  ratios[`durable-commits homedb/fdatasync-loop w${w}`] = { of: `homedb-w${w}`, to: 'fdatasync-loop' }
}
ratios['durable-commits homedb/sqlite-normal w256'] = { of: 'homedb-w256', to: 'sqlite-normal-w256' }
ratios['durable-commits homedb-log/fdatasync-loop w256'] = { of: 'homedb-log-w256', to: 'fdatasync-loop' }
ratios['durable-commits homedb/homedb-log w256'] = { of: 'homedb-w256', to: 'homedb-log-w256' }

const goals: Record<string, GoalSpec> = {
  'durable-commits w256 ≥ 2× best peer': {
    text: 'durable commits/s with 256 writers ≥ 2× the best peer at equal durability (better-sqlite3 FULL, lmdb)',
    source: 'issue 7',
    ratio: 'durable-commits homedb/best equal-durability peer w256',
    atLeast: 2,
  },
  'durable-commits w256 fdatasync/commit ≤ 1/100': {
    text: 'fdatasync calls per commit with 256 writers ≤ 1/100 (homedb tables)',
    source: 'issue 3',
    metric: { system: 'homedb-w256', name: 'fdatasyncPerCommit' },
    atMost: 0.01,
  },
  'durable-commits log w256 fdatasync/commit ≤ 1/100': {
    text: 'fdatasync calls per commit with 256 writers ≤ 1/100 (raw @homedb/log)',
    source: 'issue 3',
    metric: { system: 'homedb-log-w256', name: 'fdatasyncPerCommit' },
    atMost: 0.01,
  },
}

/** Durable single-row commits under concurrency. */
export const durableCommits = defineWorkload<DurableCommitsParams>({
  name: 'durable-commits',
  title: 'Durable single-row commits with 1, 16 and 256 concurrent writers',
  description:
    'Each of `w` writers loops for a fixed time: commit one small record under a new key, await the commit, ' +
    'repeat; the figure is acknowledged commits per second. Equal durability (the commit survives power loss ' +
    'when acknowledged): `homedb` (`@homedb/tables`, `durability: "fsync"`, `db.rows.insert` then ' +
    '`await db.sync()`), `homedb-log` (raw `@homedb/log` in `fsync` mode, `append(msgpack(record))` then ' +
    '`await log.sync()`), `sqlite-full` (better-sqlite3, WAL, `synchronous=FULL`, one prepared `INSERT` per ' +
    'commit; the API is synchronous, so writers take turns), `lmdb` (default options, i.e. `overlappingSync`; each ' +
    'writer awaits its `put` and then `db.flushed`, because the `put` promise resolves at commit, before the ' +
    'flush) and `fdatasync-loop` (one `writeSync` + `fdatasync` per commit on a plain file, one writer: the ' +
    'floor without group commit). Weaker, reported apart: `sqlite-normal` (`synchronous=NORMAL`: the WAL is ' +
    'fsynced only at checkpoints, so a power cut can lose acknowledged commits) and `lowdb` (`await db.write()`: ' +
    'rewrites the whole JSON file via temp file + rename, never fsyncs). `fdatasyncPerCommit` counts ' +
    'fdatasync/fsync/directory-fsync calls through a counting `fileLayer` around `nodeFileLayer` (homedb), or ' +
    'the loop itself; peers do their syncs inside native code, where they cannot be counted from JavaScript.',
  unit: 'opsPerSec',
  params: (quick) => ({ durationMs: quick ? 200 : 800, pool: 10_000 }),
  capMs: (quick) => (quick ? 15_000 : 30_000),
  repeats: 3,
  systems,
  ratios,
  goals,
})
