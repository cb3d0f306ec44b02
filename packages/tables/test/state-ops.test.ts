// Internal building blocks for compaction and followers (issue 5): the deterministic state serialisation and
// applying commit payloads with change records.
import { openLog } from '@homedb/log'
import { describe, expect, it } from 'vitest'
import { list, lookupList, lookupMap, lookupSet, lookupTable, openDb, schema, single } from '../src/index.js'
import { encodePayload } from '../src/internal/codec.js'
import type { RawCommitEvent } from '../src/internal/commit-events.js'
import { coreOf, DbCore } from '../src/internal/db-core.js'
import { dump } from './support/dump.js'

const S = schema({
  one: single<{ n: number }>(),
  map: lookupTable<string, { n: number }>(),
  items: list<number>(),
  lists: lookupList<string, number>(),
  sets: lookupSet<string, number>(),
  maps: lookupMap<string, number, string>(),
})

async function busyDb(listener?: (event: RawCommitEvent) => void) {
  const db = await openDb(S)
  if (listener) db.onCommit(listener as never)
  db.one.insert({ n: 1 })
  db.map.insert('b', { n: 2 })
  db.map.insert('a', { n: 1 })
  db.map.insert('c', { n: 3 })
  db.map.remove('b')
  db.items.push(3)
  db.items.push(1)
  db.items.push(2)
  db.items.remove(0)
  db.lists.push('x', 1)
  db.lists.push('x', 2)
  db.lists.createKey('empty')
  db.sets.insert('s', 2)
  db.sets.insert('s', 1)
  db.sets.createKey('none')
  db.maps.insert('m', 2, 'two')
  db.maps.insert('m', 1, 'one')
  db.maps.createKey('nothing')
  await db.transaction(() => {
    db.lists.push('y', 9)
    db.maps.remove('m', 2)
    db.sets.remove('s', 2)
  })
  return db
}

async function freshCore(): Promise<DbCore> {
  return new DbCore(S.tables, await openLog(undefined, { durability: 'memory' }), {
    freeze: true,
    onListenerError: (e) => {
      throw e
    },
    onError: (e) => {
      throw e
    },
    autoCompact: false,
  })
}

describe('state serialisation', () => {
  it('rebuilds the same state, in the same iteration order, from the state operations', async () => {
    const db = await busyDb()
    const ops = [...coreOf(db).stateOps()]
    const core = await freshCore()
    core.replay.applyCommit(encodePayload(ops), 1, undefined)
    expect(dump(core.db)).toEqual(dump(db))
  })

  it('is deterministic: the same state gives the same bytes', async () => {
    const a = encodePayload([...coreOf(await busyDb()).stateOps()])
    const b = encodePayload([...coreOf(await busyDb()).stateOps()])
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
  })
})

describe('applying commits with change records (what a follower emits)', () => {
  it('produces the same changes the writer emitted, commit by commit', async () => {
    const live: RawCommitEvent[] = []
    const db = await busyDb((e) => live.push(e))
    db.map.clear()
    db.lists.clearKey('x')
    db.one.clear()
    const writer = coreOf(db)
    const follower = await freshCore()
    const followed: RawCommitEvent[] = []
    for await (const commit of writer.log.read()) {
      const changes: Record<string, never[]> = {}
      follower.replay.applyCommit(commit.payload, commit.seq, changes)
      followed.push({ seq: commit.seq, changes })
    }
    expect(followed).toEqual(live)
    expect(dump(follower.db)).toEqual(dump(db))
  })
})
