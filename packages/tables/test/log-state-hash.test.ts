// logStateHash: the state hash of a log computed without the schema (what a home server computes when it moves a
// user) equals db.stateHash() when every table appears in the log, at the head, at earlier seqs and after
// compaction; it refuses what it cannot compute and detects a different state.
import { openLog } from '@homedb/log'
import { tempDir, withSeed } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { logStateHash, openDb, schema, single } from '../src/index.js'
import { Mixed, type MixedDb, randomBurst } from './support/workload.js'

/** Touches every table of Mixed once, so the log names all of them. */
function touchEveryTable(db: MixedDb): void {
  db.account.insert(0)
  db.meta.insert('t', 1)
  db.events.push(1)
  db.history.createKey('t')
  db.tags.createKey('t')
  db.shares.createKey('t')
}

describe('logStateHash', () => {
  it('equals db.stateHash() at the head and at every earlier seq of a random history', async () => {
    await withSeed('log-state-hash', async (rng) => {
      const dir = tempDir()
      const db = await openDb(Mixed, { dir })
      touchEveryTable(db)
      const hashes = new Map<number, string>()
      for (let round = 0; round < 20; round++) {
        randomBurst(db, rng, 15)
        hashes.set(db.seq, db.stateHash())
      }
      await db.close()
      const log = await openLog(dir, { readOnly: true })
      try {
        for (const [seq, hash] of hashes) {
          const got = await logStateHash(log, { upTo: seq })
          expect(got.seq).toBe(seq)
          expect(got.hash).toBe(hash)
          expect(got.tables).toBe(6)
        }
        expect((await logStateHash(log)).chain).toBe(log.head.chain)
      } finally {
        await log.close()
      }
    })
  })

  it('starts from the snapshot after compaction, and from seq 0 for a seq before it while segments remain', async () => {
    await withSeed('log-state-hash-compacted', async (rng) => {
      const dir = tempDir()
      const db = await openDb(Mixed, { dir })
      touchEveryTable(db)
      randomBurst(db, rng, 40)
      const early = { seq: db.seq, hash: db.stateHash() }
      randomBurst(db, rng, 40)
      await db.compact()
      randomBurst(db, rng, 40)
      const head = { seq: db.seq, hash: db.stateHash() }
      await db.close()
      const log = await openLog(dir, { readOnly: true })
      try {
        expect((await logStateHash(log)).hash).toBe(head.hash)
        if (log.start.seq === 0) expect((await logStateHash(log, { upTo: early.seq })).hash).toBe(early.hash)
        else {
          await expect(logStateHash(log, { upTo: early.seq })).rejects.toMatchObject({
            code: 'TABLES_LOG_ERROR',
            context: { logCode: 'LOG_NEED_SNAPSHOT' },
          })
        }
      } finally {
        await log.close()
      }
    })
  })

  it('lists the empty tables a snapshot header names, so a compacted log matches its db', async () => {
    const dir = tempDir()
    const db = await openDb(Mixed, { dir })
    db.account.insert({ a: 1 })
    await db.compact()
    const expected = db.stateHash()
    await db.close()
    const log = await openLog(dir, { readOnly: true })
    try {
      const got = await logStateHash(log)
      expect(got.tables).toBe(6)
      expect(got.hash).toBe(expected)
    } finally {
      await log.close()
    }
  })

  it('differs for logs whose states differ, and refuses a seq past the head and a payload that is not tables', async () => {
    const Small = schema({ one: single<number>() })
    const hashes: string[] = []
    for (const value of [1, 2]) {
      const dir = tempDir()
      const db = await openDb(Small, { dir })
      db.one.insert(value)
      await db.close()
      const log = await openLog(dir, { readOnly: true })
      hashes.push((await logStateHash(log)).hash)
      await log.close()
    }
    expect(hashes[0]).not.toBe(hashes[1])
    const raw = await openLog(undefined, { durability: 'memory' })
    raw.append(Buffer.from([0xc1]))
    await expect(logStateHash(raw)).rejects.toMatchObject({ code: 'TABLES_CORRUPT_OP' })
    await expect(logStateHash(raw, { upTo: 5 })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    await raw.close()
  })
})
