// verifyDb (replay the tables layer read-only, report the first commit that does not apply), point-in-time opens
// (`readOnly: true, upTo`), and the recovery the README describes: export the state before the bad commit into a
// new db and put it in place.
import * as fs from 'node:fs'
import { openLog } from '@homedb/log'
import { dirBytes, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { list, lookupSet, lookupTable, openDb, schema, verifyDb } from '../src/index.js'
import { encodePayload } from '../src/internal/codec.js'
import { OP } from '../src/internal/opcodes.js'

const Core = schema({
  files: lookupTable<string, { name: string }>(),
  events: list<string>(),
  children: lookupSet<string, string>(),
})

/** A db with five good commits, then (if `bad`) a commit that does not apply and two good ones after it. */
async function damaged(bad: boolean): Promise<{ dir: string; states: Map<number, string> }> {
  const dir = tempDir('tables')
  const db = await openDb(Core, { dir })
  const states = new Map<number, string>([[0, snapshotOf(db)]])
  db.onCommit(({ seq }) => states.set(seq, snapshotOf(db)))
  db.files.insert('f1', { name: 'a.md' })
  db.events.push('created a.md')
  db.children.insert('root', 'f1')
  db.files.insert('f2', { name: 'b.md' })
  db.events.push('created b.md')
  await db.close()
  if (!bad) return { dir, states }
  const log = await openLog(dir)
  // Seq 6 removes index 5 of a list of two: what a cast-and-push into list.data used to leave in the log.
  log.append(encodePayload([['events', OP.LIST_REMOVE, 5]]))
  log.append(encodePayload([['files', OP.LT_SET, 'f3', { name: 'c.md' }]]))
  log.append(encodePayload([['events', OP.LIST_PUSH, 'created c.md']]))
  await log.close()
  return { dir, states }
}

function snapshotOf(db: {
  files: Iterable<unknown>
  events: Iterable<unknown>
  children: Iterable<[string, ReadonlySet<string>]>
}): string {
  return JSON.stringify([[...db.files], [...db.events], [...db.children].map(([k, s]) => [k, [...s]])])
}

describe('verifyDb', () => {
  it('reports ok and the last seq for a db whose every commit applies', async () => {
    const { dir } = await damaged(false)
    expect(await verifyDb(Core, dir)).toEqual({ ok: true, seq: 5 })
  })

  it('reports the first commit that does not apply: its seq, table, operation and message', async () => {
    const { dir } = await damaged(true)
    await expect(openDb(Core, { dir })).rejects.toMatchObject({ code: 'TABLES_CORRUPT_OP', context: { seq: 6 } })
    const report = await verifyDb(Core, dir)
    expect(report).toEqual({
      ok: false,
      seq: 5,
      problem: {
        seq: 6,
        table: 'events',
        op: 'remove',
        code: 'TABLES_CORRUPT_OP',
        message: expect.stringContaining('index 5 is out of range (length 2)'),
      },
    })
  })

  it('reports a schema that does not fit the log, as openDb would refuse it', async () => {
    const { dir } = await damaged(false)
    const Other = schema({ files: list<string>(), events: list<string>(), children: lookupSet<string, string>() })
    expect(await verifyDb(Other, dir)).toMatchObject({
      ok: false,
      problem: { code: 'TABLES_KIND_MISMATCH', table: 'files' },
    })
    const Fewer = schema({ files: lookupTable<string, { name: string }>(), events: list<string>() })
    expect(await verifyDb(Fewer, dir)).toMatchObject({ ok: false, problem: { code: 'TABLES_UNKNOWN_TABLE' } })
    expect(await verifyDb(Fewer, dir, { dropTables: ['children'] })).toEqual({ ok: true, seq: 5 })
  })

  it('never takes the lock and never writes: it runs beside a writer and leaves the files as they were', async () => {
    const { dir } = await damaged(false)
    const writer = await openDb(Core, { dir })
    await writer.sync()
    const bytes = dirBytes(dir)
    expect(await verifyDb(Core, dir)).toEqual({ ok: true, seq: 5 })
    expect(dirBytes(dir)).toEqual(bytes)
    writer.events.push('still writing')
    await writer.close()
    expect(await verifyDb(Core, dir)).toEqual({ ok: true, seq: 6 })
  })

  it('reports a directory that holds no db instead of creating one', async () => {
    const dir = tempDir('tables')
    const report = await verifyDb(Core, `${dir}/missing`)
    expect(report).toMatchObject({
      ok: false,
      seq: 0,
      problem: { code: 'TABLES_CONFIG', message: expect.stringContaining('missing') },
    })
    expect(fs.existsSync(`${dir}/missing`)).toBe(false)
    await expect(verifyDb(Core, dir, { dirr: 1 } as never)).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
  })
})

describe('point-in-time opens', () => {
  it('open the state as of every seq, and do not follow later commits', async () => {
    const { dir, states } = await damaged(false)
    for (let seq = 0; seq <= 5; seq++) {
      const at = await openDb(Core, { dir, readOnly: true, upTo: seq })
      expect(at.seq).toBe(seq)
      expect(snapshotOf(at), `seq ${seq}`).toBe(states.get(seq))
      await at.close()
    }
    const at3 = await openDb(Core, { dir, readOnly: true, upTo: 3 })
    const writer = await openDb(Core, { dir })
    writer.events.push('later')
    await writer.close()
    expect(at3.seq).toBe(3)
    expect(snapshotOf(at3)).toBe(states.get(3))
    await at3.close()
  })

  it('use the latest snapshot at or before the seq, and refuse a seq compaction released', async () => {
    const { dir, states } = await damaged(false)
    const writer = await openDb(Core, { dir })
    await writer.compact() // snapshot at seq 5; the segments before it are deleted
    writer.events.push('after the snapshot') // seq 6
    await writer.close()
    const at5 = await openDb(Core, { dir, readOnly: true, upTo: 5 })
    expect(snapshotOf(at5)).toBe(states.get(5))
    await at5.close()
    const at6 = await openDb(Core, { dir, readOnly: true, upTo: 6 })
    expect([...at6.events]).toEqual(['created a.md', 'created b.md', 'after the snapshot'])
    await at6.close()
    await expect(openDb(Core, { dir, readOnly: true, upTo: 4 })).rejects.toMatchObject({
      code: 'TABLES_CONFIG',
      context: { upTo: 4, snapshotSeq: 5 },
    })
  })

  it('refuse an upTo past the last commit, without readOnly, or that is not a seq', async () => {
    const { dir } = await damaged(false)
    await expect(openDb(Core, { dir, readOnly: true, upTo: 6 })).rejects.toMatchObject({
      code: 'TABLES_CONFIG',
      message: expect.stringContaining("past the log's last commit (seq 5)"),
    })
    await expect(openDb(Core, { dir, upTo: 3 })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    await expect(openDb(Core, { dir, readOnly: true, upTo: 1.5 })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    expect(await verifyDb(Core, dir)).toEqual({ ok: true, seq: 5 })
  })
})

describe('recovering a db whose log holds a commit that does not apply (README)', () => {
  it('exports the state before the bad commit into a new db and puts it in place', async () => {
    const { dir, states } = await damaged(true)

    // As in the README, section "Recovering a db whose log holds a commit that does not apply":
    const report = await verifyDb(Core, dir) // { ok: false, seq: 5, problem: { seq: 6, … } }
    const old = await openDb(Core, { dir, readOnly: true, upTo: report.seq })
    const fresh = await openDb(Core, { dir: `${dir}.recovered` })
    fresh.transactionSync(() => {
      for (const [id, file] of old.files) fresh.files.insert(id, file)
      for (const event of old.events) fresh.events.push(event)
      for (const [folder, children] of old.children) for (const child of children) fresh.children.insert(folder, child)
    })
    await Promise.all([fresh.close(), old.close()])
    fs.renameSync(dir, `${dir}.broken`) // keep the damaged log for forensics
    fs.renameSync(`${dir}.recovered`, dir)

    const db = await openDb(Core, { dir })
    expect(snapshotOf(db)).toBe(states.get(5))
    expect(await verifyDb(Core, dir)).toEqual({ ok: true, seq: 1 })
    db.files.insert('f3', { name: 'c.md' }) // and it takes writes again
    await db.close()
    fs.rmSync(`${dir}.broken`, { recursive: true, force: true })
  })
})
