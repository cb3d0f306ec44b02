// Online compaction: the snapshot holds exactly the state at the compaction's start while writes go on (in every
// table kind, including clears and rolled-back transactions), the same state gives the same bytes, segments are
// released, a db opens from snapshot + log, the automatic policy fires, and refused calls change nothing.
import * as fs from 'node:fs'
import { nodeFileLayer, openLog } from '@homedb/log'
import { FaultyFileLayer, isSnapshot, tempDir } from '@homedb/testkit'
import { describe, expect, it, vi } from 'vitest'
import { list, lookupList, lookupMap, lookupSet, lookupTable, openDb, schema, single } from '../src/index.js'
import { coreOf } from '../src/internal/db-core.js'
import { decodeSnapshot } from '../src/internal/snapshot-codec.js'
import { dump } from './support/dump.js'

const S = schema({
  account: single<{ plan: string }>(),
  meta: lookupTable<string, { n: number }>(),
  events: list<number>(),
  history: lookupList<string, number>(),
  children: lookupSet<string, number>(),
  shares: lookupMap<string, string, { n: number }>(),
})

type D = Awaited<ReturnType<typeof fill>>

async function fill(dir: string | undefined, rows: number) {
  const db = await openDb(S, { ...(dir === undefined ? {} : { dir }), segmentBytes: 32 * 1024, autoCompact: false })
  db.account.insert({ plan: 'free' })
  for (let i = 0; i < rows; i++) {
    db.meta.insert(`k${i}`, { n: i })
    db.events.push(i)
    db.history.push(`h${i % 50}`, i)
    db.children.insert(`c${i % 40}`, i)
    db.shares.insert(`s${i % 30}`, `u${i}`, { n: i })
    if (i % 500 === 0) await new Promise((r) => setImmediate(r))
  }
  db.children.createKey('empty')
  await db.sync()
  return db
}

/** Writes to every table kind, some in a transaction that rolls back after clearing. */
function churn(db: D, i: number): void {
  db.meta.insert(`k${i}`, { n: -1 - i })
  db.meta.remove(`k${i + 1}`)
  db.meta.insert(`new${i}`, { n: i })
  db.events.push(-1 - i)
  if (db.events.length > 3) db.events.remove(1)
  db.history.push(`h${i % 50}`, -1 - i)
  if ((db.history.get(`h${(i + 1) % 50}`)?.length ?? 0) > 1) db.history.remove(`h${(i + 1) % 50}`, 0)
  db.children.remove(`c${i % 40}`, i)
  db.children.insert(`c${i % 40}`, -1 - i)
  db.shares.insert(`s${i % 30}`, `u${i}`, { n: -1 - i })
  db.shares.remove(`s${(i + 1) % 30}`, `u${i + 1}`)
  db.shares.clearKey(`s${(i + 2) % 30}`)
  db.account.insert({ plan: `p${i}` })
  try {
    db.transactionSync(() => {
      db.meta.clear()
      db.history.clear()
      db.events.clear()
      throw new Error('roll back')
    })
  } catch {}
}

/** The state a snapshot holds, loaded into a fresh in-memory db. */
async function snapshotState(dir: string): Promise<{ seq: number; state: Record<string, unknown> }> {
  const log = await openLog(dir, { readOnly: true })
  const snap = (await log.latestSnapshot())!
  const fresh = await openDb(S, { autoCompact: false })
  const core = coreOf(fresh)
  for await (const item of decodeSnapshot(snap.chunks(), snap.seq))
    if ('ops' in item) core.replay.applyOps(item.ops, snap.seq, undefined)
  await log.close()
  return { seq: snap.seq, state: dump(fresh) }
}

/**
 * A file layer that counts the writes to snapshot files. The fourth write of a compaction (file header, then the
 * db's header chunk as chunk header + bytes, then the first operations chunk's header) means the first chunk of
 * operations was encoded: the snapshot is in the middle of writing out the state.
 */
function countSnapshotWrites(): { fileLayer: FaultyFileLayer; snapshotWrites: () => number } {
  let writes = 0
  const fileLayer = new FaultyFileLayer(nodeFileLayer)
  fileLayer.onCall = (call) => {
    if (call.op === 'write' && isSnapshot(call.path)) writes++
  }
  return { fileLayer, snapshotWrites: () => writes }
}

describe('compact()', () => {
  it('snapshots exactly the state at its start while every kind of write goes on, across many chunks', async () => {
    const dir = tempDir('tables')
    const db = await fill(dir, 20_000)
    const atStart = structuredClone(dump(db))
    const seqAtStart = db.seq
    const compaction = db.compact()
    let turns = 0
    let done = false
    void compaction.then(() => (done = true))
    for (let i = 0; !done; i++) {
      churn(db, i)
      await new Promise((r) => setImmediate(r))
      turns++
    }
    const info = await compaction
    expect(info.seq).toBe(seqAtStart)
    expect(turns).toBeGreaterThan(3) // the compaction yielded to the event loop between chunks
    const snap = await snapshotState(dir)
    expect(snap.seq).toBe(seqAtStart)
    expect(snap.state).toEqual(atStart)
    // And the db reopened from snapshot + log is the live state.
    const live = dump(db)
    await db.close()
    const again = await openDb(S, { dir })
    expect(dump(again)).toEqual(live)
    await again.close()
  })

  it.each(['history', 'children', 'shares'] as const)(
    'keeps the captured %s collection when it changes while that key is being written out',
    async (table) => {
      // One key large enough that its operations span several chunks. The writes start only once the snapshot has
      // begun writing that key out: they must not leak into (or drop out of) the snapshot.
      const dir = tempDir('tables')
      const { fileLayer, snapshotWrites } = countSnapshotWrites()
      const db = await openDb(S, { dir, autoCompact: false, fileLayer })
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) {
          if (table === 'history') db.history.push('big', i)
          else if (table === 'children') db.children.insert('big', i)
          else db.shares.insert('big', `u${i}`, { n: i })
        }
      })
      const atStart = structuredClone(dump(db))
      const compaction = db.compact()
      let done = false
      void compaction.then(() => (done = true))
      let writes = 0
      for (let turn = 0; !done; turn++) {
        await new Promise((r) => setImmediate(r))
        if (snapshotWrites() < 4 || done) continue
        writes++
        if (table === 'history') {
          db.history.push('big', -turn)
          db.history.remove('big', 0)
        } else if (table === 'children') {
          db.children.insert('big', -turn)
          db.children.remove('big', 10_000 - turn)
        } else {
          db.shares.insert('big', `new${turn}`, { n: -turn })
          db.shares.remove('big', `u${10_000 - turn}`)
        }
      }
      await compaction
      expect(writes).toBeGreaterThan(0)
      expect((await snapshotState(dir)).state).toEqual(atStart)
      await db.close()
    },
  )

  it('keeps every captured key when keys are removed before the snapshot reaches them', async () => {
    const dir = tempDir('tables')
    const { fileLayer, snapshotWrites } = countSnapshotWrites()
    const db = await openDb(S, { dir, autoCompact: false, fileLayer })
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) db.meta.insert(`k${i}`, { n: i })
    })
    const atStart = structuredClone(dump(db))
    const compaction = db.compact()
    let done = false
    void compaction.then(() => (done = true))
    // Once the snapshot is writing keys out: change keys, remove others from the end (not reached yet), re-add some
    // of them (they move to the end of the Map), add new ones.
    let writes = 0
    for (let i = 0; !done; i++) {
      await new Promise((r) => setImmediate(r))
      if (snapshotWrites() < 4 || done) continue
      writes++
      db.meta.insert(`k${19_000 - i}`, { n: -2 })
      db.meta.remove(`k${19_000 - i}`)
      db.meta.remove(`k${19_999 - i}`)
      if (i % 2 === 0) db.meta.insert(`k${19_999 - i}`, { n: -1 })
      db.meta.insert(`new${i}`, { n: i })
    }
    await compaction
    expect(writes).toBeGreaterThan(0)
    expect((await snapshotState(dir)).state).toEqual(atStart)
    await db.close()
  })

  it('writes the same bytes for the same state', async () => {
    const a = tempDir('tables')
    const b = tempDir('tables')
    for (const dir of [a, b]) {
      const db = await fill(dir, 3000)
      await db.compact()
      await db.close()
    }
    const file = (dir: string) => fs.readdirSync(dir).find((f) => f.startsWith('snapshot-'))!
    const body = (dir: string) => fs.readFileSync(`${dir}/${file(dir)}`).subarray(64) // past the header (logId differs)
    expect(file(a)).toBe(file(b))
    expect(body(a).equals(body(b))).toBe(true)
  })

  it('releases the segments the snapshot covers, and the db opens from snapshot + log', async () => {
    const dir = tempDir('tables')
    const db = await fill(dir, 5000)
    await db.transaction(() => {
      for (let i = 0; i < 200; i++) db.events.push(i)
    })
    const before = fs.readdirSync(dir).filter((f) => f.startsWith('segment-')).length
    expect(before).toBeGreaterThan(1)
    await db.compact()
    const after = fs.readdirSync(dir).filter((f) => f.startsWith('segment-'))
    expect(after.length).toBe(1)
    db.meta.insert('after', { n: 1 })
    const live = dump(db)
    await db.close()
    const again = await openDb(S, { dir })
    expect(dump(again)).toEqual(live)
    expect(again.meta.get('after')).toEqual({ n: 1 })
    await again.compact() // and again, on top of the previous snapshot
    await again.close()
    const third = await openDb(S, { dir })
    expect(dump(third)).toEqual(live)
    await third.close()
  })

  it('works in memory, releasing the commits it covers', async () => {
    const db = await fill(undefined, 1000)
    const info = await db.compact()
    expect(info.ops).toBeGreaterThan(1000)
    const log = coreOf(db).log
    expect(log.start.seq).toBe(info.seq)
    await db.close()
  })

  it('shares one compaction between concurrent calls', async () => {
    const db = await fill(tempDir('tables'), 100)
    const [a, b] = await Promise.all([db.compact(), db.compact()])
    expect(a).toBe(b)
    await db.close()
  })

  it('refuses inside a transaction, on a read-only db and after close, changing nothing', async () => {
    const dir = tempDir('tables')
    const db = await fill(dir, 10)
    expect(() => db.transactionSync(() => void db.compact())).toThrow(
      expect.objectContaining({ code: 'TABLES_IN_TRANSACTION' }),
    )
    expect(db.seq).toBe(coreOf(db).log.head.seq)
    const ro = await openDb(S, { dir, readOnly: true })
    await expect(ro.compact()).rejects.toMatchObject({ code: 'TABLES_READ_ONLY' })
    await ro.close()
    await db.close()
    await expect(db.compact()).rejects.toMatchObject({ code: 'TABLES_CLOSED' })
    expect(fs.readdirSync(dir).some((f) => f.startsWith('snapshot-'))).toBe(false)
  })
})

describe('the automatic policy', () => {
  it('compacts once the log outgrows ratio × the snapshot, and not when turned off', async () => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir, autoCompact: { ratio: 2, minBytes: 4096 } })
    const snapshots = () => fs.readdirSync(dir).filter((f) => f.startsWith('snapshot-'))
    for (let i = 0; i < 100; i++) db.meta.insert(`k${i}`, { n: i }) // ~2 KiB of log: under the threshold
    await db.sync()
    await new Promise((r) => setImmediate(r))
    expect(snapshots()).toEqual([])
    for (let i = 0; i < 400; i++) db.meta.insert(`k${i}`, { n: i })
    // The policy's compaction runs in the background: wait for its snapshot (the bound only ends a broken run).
    await vi.waitFor(() => expect(snapshots().length).toBe(1), { timeout: 30_000, interval: 2 })
    const live = dump(db)
    await db.close()
    const again = await openDb(S, { dir, autoCompact: false })
    expect(dump(again)).toEqual(live)
    for (let i = 0; i < 2000; i++) again.meta.insert(`x${i}`, { n: i })
    await again.sync()
    await new Promise((r) => setImmediate(r))
    expect(snapshots().length).toBe(1)
    await again.close()
  })

  it('rejects a bad policy as a config error', async () => {
    await expect(openDb(S, { autoCompact: { ratio: 0.5 } })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    await expect(openDb(S, { autoCompact: 'yes' as never })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
  })
})
