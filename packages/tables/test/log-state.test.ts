// readLogState and decodeCommitOps: a log's tables and its commits' operations read without the schema (what a
// home server's operator page shows) equal what the db holds and what the app wrote, at the head, at earlier seqs
// and after compaction; entries come a page at a time; malformed payloads are refused.
import { openLog } from '@homedb/log'
import { tempDir, withSeed } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  decodeCommitOps,
  type LogState,
  list,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  readLogState,
  schema,
  single,
} from '../src/index.js'
import { dumpUnordered } from './support/dump.js'
import { Mixed, randomBurst } from './support/workload.js'

const byKey = (a: readonly unknown[], b: readonly unknown[]): number => {
  const x = `${typeof a[0]}:${String(a[0])}`
  const y = `${typeof b[0]}:${String(b[0])}`
  return x < y ? -1 : x > y ? 1 : 0
}
const sortedMembers = (members: Iterable<unknown>): unknown[] =>
  [...members]
    .map((m) => [m])
    .sort(byKey)
    .map(([m]) => m)

/** A LogState in the shape of `dumpUnordered(db)`: keyed tables, members and lookupMap entries sorted by key. */
function dumpState(state: LogState): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const table of state.tables) {
    const entries = table.entries()
    if (table.kind === 'single') out[table.name] = entries[0]?.value
    else if (table.kind === 'list') out[table.name] = entries.map((e) => e.value)
    else if (table.kind === 'lookupTable') out[table.name] = entries.map((e) => [e.key, e.value]).sort(byKey)
    else if (table.kind === 'lookupList') {
      out[table.name] = entries.map((e) => [e.key, [...(e.value as unknown[])]]).sort(byKey)
    } else if (table.kind === 'lookupSet') {
      out[table.name] = entries.map((e) => [e.key, sortedMembers(e.value as Set<unknown>)]).sort(byKey)
    } else {
      out[table.name] = entries.map((e) => [e.key, [...(e.value as Map<unknown, unknown>)].sort(byKey)]).sort(byKey)
    }
  }
  return out
}

describe('readLogState', () => {
  it('reads the same tables as the db holds, at the head and at earlier seqs, before and after compaction', async () => {
    await withSeed('read-log-state', async (rng) => {
      const dir = tempDir()
      const db = await openDb(Mixed, { dir })
      db.account.insert(0)
      db.meta.insert('t', 1)
      db.events.push(1)
      db.history.createKey('t')
      db.tags.createKey('t')
      db.shares.createKey('t')
      const dumps = new Map<number, Record<string, unknown>>()
      for (let round = 0; round < 12; round++) {
        randomBurst(db, rng, 15)
        dumps.set(db.seq, dumpUnordered(db))
        if (round === 6) await db.compact()
      }
      await db.close()
      const log = await openLog(dir, { readOnly: true })
      try {
        const head = await readLogState(log)
        expect(head.seq).toBe(log.head.seq)
        expect(head.chain).toBe(log.head.chain)
        expect(head.tables.map((t) => t.name)).toEqual(['account', 'events', 'history', 'meta', 'shares', 'tags'])
        expect(dumpState(head)).toEqual(dumps.get(log.head.seq))
        // Every seq still held in segments or after the snapshot reads back as the db held it then.
        for (const [seq, dump] of dumps) {
          if (seq < log.start.seq) continue
          expect(dumpState(await readLogState(log, { upTo: seq }))).toEqual(dump)
        }
      } finally {
        await log.close()
      }
    })
  })

  it('hands out entries a page at a time, and the pages put together are the whole table', async () => {
    const Big = schema({ items: lookupTable<string, { n: number }>(), order: list<number>(), one: single<string>() })
    const dir = tempDir()
    const db = await openDb(Big, { dir })
    db.transactionSync(() => {
      for (let i = 0; i < 1000; i++) db.items.insert(`k${i}`, { n: i })
      for (let i = 0; i < 250; i++) db.order.push(i * 2)
    })
    db.one.insert('only')
    await db.close()
    const log = await openLog(dir, { readOnly: true })
    try {
      const state = await readLogState(log)
      const items = state.tables.find((t) => t.name === 'items')!
      expect(items).toMatchObject({ kind: 'lookupTable', size: 1000 })
      const page = items.entries({ offset: 990, limit: 50 })
      expect(page).toEqual(Array.from({ length: 10 }, (_, j) => ({ key: `k${990 + j}`, value: { n: 990 + j } })))
      const pages = []
      for (let offset = 0; offset < items.size; offset += 128) pages.push(...items.entries({ offset, limit: 128 }))
      expect(pages).toEqual(items.entries())
      const order = state.tables.find((t) => t.name === 'order')!
      expect(order.entries({ offset: 3, limit: 2 })).toEqual([
        { key: 3, value: 6 },
        { key: 4, value: 8 },
      ])
      const one = state.tables.find((t) => t.name === 'one')!
      expect([one.size, one.entries(), one.entries({ offset: 1 })]).toEqual([1, [{ value: 'only' }], []])
      expect(() => items.entries({ offset: -1 })).toThrow(expect.objectContaining({ code: 'TABLES_CONFIG' }))
      expect(() => items.entries({ limit: 1.5 })).toThrow(expect.objectContaining({ code: 'TABLES_CONFIG' }))
      await expect(readLogState(log, { upTo: log.head.seq + 1 })).rejects.toMatchObject({ code: 'TABLES_CONFIG' })
    } finally {
      await log.close()
    }
  })
})

describe('decodeCommitOps', () => {
  it('names the table, the operation and its key, member, index and value, as the app wrote them', async () => {
    const Shop = schema({
      files: lookupTable<string, { size: number }>(),
      tags: lookupSet<string, string>(),
      shares: lookupMap<string, string, boolean>(),
      log: list<string>(),
    })
    const dir = tempDir()
    const db = await openDb(Shop, { dir })
    db.transactionSync(() => {
      db.files.insert('a.txt', { size: 1 })
      db.tags.insert('a.txt', 'red')
      db.shares.insert('a.txt', 'bob', true)
      db.log.push('<script>alert(1)</script>')
    })
    db.transactionSync(() => {
      db.files.remove('a.txt')
      db.log.remove(0)
      db.tags.clearKey('a.txt')
    })
    await db.close()
    const log = await openLog(dir, { readOnly: true })
    const payloads: Uint8Array[] = []
    try {
      for await (const commit of log.read()) payloads.push(commit.payload)
    } finally {
      await log.close()
    }
    expect(payloads.map((p) => decodeCommitOps(p))).toEqual([
      [
        { table: 'files', kind: 'lookupTable', op: 'set', key: 'a.txt', value: { size: 1 } },
        { table: 'tags', kind: 'lookupSet', op: 'insert', key: 'a.txt', member: 'red' },
        { table: 'shares', kind: 'lookupMap', op: 'set', key: 'a.txt', key2: 'bob', value: true },
        { table: 'log', kind: 'list', op: 'push', value: '<script>alert(1)</script>' },
      ],
      [
        { table: 'files', kind: 'lookupTable', op: 'remove', key: 'a.txt' },
        { table: 'log', kind: 'list', op: 'remove', index: 0 },
        { table: 'tags', kind: 'lookupSet', op: 'clearKey', key: 'a.txt' },
      ],
    ])
  })

  it('refuses a payload that is not the tables format, naming the operation', () => {
    const corrupt = (payload: Uint8Array, context: object = {}) =>
      expect(() => decodeCommitOps(payload)).toThrow(
        expect.objectContaining({ code: 'TABLES_CORRUPT_OP', context: expect.objectContaining(context) }),
      )
    corrupt(Uint8Array.of(0xc1)) // never used in msgpack
    corrupt(Uint8Array.of(0x01)) // the number 1, not an array
    corrupt(Uint8Array.of(0x91, 0x93, 0xa1, 0x74, 0x14, 0x01), { index: 0, table: 't' }) // [['t', 20, 1]]: no value
    corrupt(Uint8Array.of(0x92, 0x92, 0xa1, 0x74, 0x16, 0x92, 0xa1, 0x74, 0x4b), { index: 1 }) // 2nd op: opcode 75
    corrupt(Uint8Array.of(0x91, 0x92, 0xa0, 0x09), { index: 0 }) // [['', 9]]: an unknown db-level operation
  })
})
