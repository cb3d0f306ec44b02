// Read-only followers in the same process as their writer (read-only opens take no lock): they converge after
// bursts, emit the writer's own events (same seq, same changes) for every table kind, refuse mutations, reload
// with exactly one reset event when the writer's compaction released commits they still needed, work the same
// through followDb over a read-only Log (whose close() is left to its owner), and report a table their schema
// lacks through onError while following the rest. Every wait is on the follower's events, never a sleep.
import { type Commit, type Log, nodeFileLayer, openLog, verifyLog } from '@homedb/log'
import { plain, tempDir, withSeed } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  type CommitEvent,
  type CommitSource,
  followDb,
  list,
  lookupTable,
  openDb,
  schema,
  TablesError,
  TablesSchemaError,
} from '../src/index.js'
import { coreOf } from '../src/internal/db-core.js'
import { dump, dumpUnordered } from './support/dump.js'
import { recordEvents, waitForSeq } from './support/follow.js'
import { everyKindOfChange, Mixed, type MixedDb, randomBurst } from './support/workload.js'

/** Opens a writer on a fresh directory: 'os' durability (followers read what reached the OS), small segments. */
async function writerAt(dir: string, segmentBytes = 4096): Promise<MixedDb> {
  return openDb(Mixed, { dir, durability: 'os', segmentBytes, autoCompact: false })
}

/** Resolves once a read-only log has seen the writer's commits up to `seq` (from its own append notices). */
function logReaches(log: Log, seq: number): Promise<void> {
  return new Promise((resolve) => {
    if (log.head.seq >= seq) return resolve()
    const off = log.onAppend((head) => {
      if (head.seq < seq) return
      off()
      resolve()
    })
  })
}

/** The writer's events with seq > `after`. */
const after = (events: readonly CommitEvent[], seq: number) => events.filter((e) => e.seq > seq)

describe('a read-only follower opened beside a writer', () => {
  it('converges after every burst and emits the writer’s events (same seq and changes) for every table kind', async () => {
    await withSeed('follower bursts', async (rng) => {
      const dir = tempDir('tables')
      const writer = await writerAt(dir)
      const writerEvents = recordEvents(writer)
      randomBurst(writer, rng, 20)
      await writer.sync()
      const follower = await openDb(Mixed, { dir, readOnly: true, followIntervalMs: 5 })
      expect(follower.readOnly).toBe(true)
      expect(dumpUnordered(follower)).toEqual(dumpUnordered(writer))
      const start = follower.seq
      const followerEvents = recordEvents(follower)
      for (let burst = 1; burst <= 6; burst++) {
        randomBurst(writer, rng, 60)
        if (burst === 3) everyKindOfChange(writer)
        await writer.sync()
        await waitForSeq(follower, writer.seq)
        expect(follower.seq, `burst ${burst}`).toBe(writer.seq)
        expect(dumpUnordered(follower), `burst ${burst}`).toEqual(dumpUnordered(writer))
      }
      expect(plain(followerEvents)).toEqual(plain(after(writerEvents, start)))
      expect(followerEvents.map((e) => e.seq)).toEqual(
        Array.from({ length: writer.seq - start }, (_, i) => start + i + 1),
      )
      // The events hold every table kind and every kind of change (everyKindOfChange made sure of it).
      const touched = new Set(followerEvents.flatMap((e) => Object.keys(e.changes)))
      expect([...touched].sort()).toEqual(Object.keys(Mixed.tables).sort())
      const ops = new Set(
        followerEvents.flatMap((e) =>
          Object.entries(e.changes).flatMap(([t, cs]) => (cs ?? []).map((c) => `${t}.${(c as { op: string }).op}`)),
        ),
      )
      for (const op of ['account.set', 'meta.set', 'meta.remove', 'events.push', 'events.remove', 'history.push']) {
        expect(ops).toContain(op)
      }
      for (const op of ['history.remove', 'tags.insert', 'tags.remove', 'shares.set', 'shares.remove']) {
        expect(ops).toContain(op)
      }
      expect(followerEvents.some((e) => e.reset === true)).toBe(false)
      await Promise.all([writer.close(), follower.close()])
    })
  })

  it('after a transaction that removed keys and rolled back, agrees with the writer on content and with its log on order', async () => {
    // A rollback restores every value and list position exactly; a removed key goes back at the end of the
    // writer's Map iteration order (restoring its place would cost O(n) per removal), while the log, and so
    // every follower and reopen, keep the original order. Content is the contract here; README, Transactions.
    const dir = tempDir('tables')
    const writer = await writerAt(dir)
    for (const k of ['a', 'b', 'c']) {
      writer.meta.insert(k, 1)
      writer.tags.insert('k', k)
      writer.shares.insert('k', k, 1)
      writer.history.push(k, 1)
    }
    writer.events.push('x')
    writer.events.push('y')
    await writer.sync()
    const follower = await openDb(Mixed, { dir, readOnly: true, followIntervalMs: 5 })
    const before = dumpUnordered(writer)
    const listsBefore = dump(writer).events
    expect(() =>
      writer.transactionSync(() => {
        writer.meta.remove('a')
        writer.tags.remove('k', 'a')
        writer.shares.remove('k', 'a')
        writer.history.clearKey('a')
        writer.events.remove(0)
        throw new Error('roll back')
      }),
    ).toThrow('roll back')
    expect(dumpUnordered(writer), 'the rollback restored every value').toEqual(before)
    expect(dump(writer).events, 'and list positions exactly').toEqual(listsBefore)
    writer.events.push('after')
    await writer.sync()
    await waitForSeq(follower, writer.seq)
    expect(dumpUnordered(follower)).toEqual(dumpUnordered(writer))
    const fresh = await openDb(Mixed, { dir, readOnly: true })
    expect(dump(follower)).toEqual(dump(fresh))
    await Promise.all([writer.close(), follower.close(), fresh.close()])
  })

  it('refuses every mutation with TABLES_READ_ONLY and changes nothing', async () => {
    const dir = tempDir('tables')
    const writer = await writerAt(dir)
    writer.meta.insert('k', 1)
    writer.events.push('e')
    writer.history.push('k', 'h')
    writer.tags.insert('k', 'm')
    writer.shares.insert('k', 'k2', 'v')
    writer.account.insert('me')
    await writer.sync()
    const follower = await openDb(Mixed, { dir, readOnly: true, followIntervalMs: 5 })
    const before = dump(follower)
    const attempts: (() => unknown)[] = [
      () => follower.account.insert('x'),
      () => follower.account.clear(),
      () => follower.meta.insert('k', 2),
      () => follower.meta.remove('k'),
      () => follower.meta.clear(),
      () => follower.events.push('x'),
      () => follower.events.pop(),
      () => follower.events.remove(0),
      () => follower.events.clear(),
      () => follower.history.push('k', 'x'),
      () => follower.history.remove('k', 0),
      () => follower.history.createKey('new'),
      () => follower.history.clearKey('k'),
      () => follower.history.clear(),
      () => follower.tags.insert('k', 'x'),
      () => follower.tags.remove('k', 'm'),
      () => follower.tags.createKey('new'),
      () => follower.tags.clearKey('k'),
      () => follower.tags.clear(),
      () => follower.shares.insert('k', 'x', 'v'),
      () => follower.shares.remove('k', 'k2'),
      () => follower.shares.createKey('new'),
      () => follower.shares.clearKey('k'),
      () => follower.shares.clear(),
      () => follower.transactionSync(() => follower.meta.insert('t', 1)),
    ]
    for (const attempt of attempts) {
      expect(attempt).toThrow(expect.objectContaining({ code: 'TABLES_READ_ONLY' }))
    }
    await expect(follower.compact()).rejects.toMatchObject({ code: 'TABLES_READ_ONLY' })
    expect(dump(follower)).toEqual(before)
    expect(follower.seq).toBe(writer.seq)
    await Promise.all([writer.close(), follower.close()])
  })

  // How the writer gets ahead: in one event-loop turn, all 300 commits land in the segment the follower is reading
  // (the writer rolls only when it compacts); in synced flushes, the writer rolls segment after segment, and the
  // compaction also releases the segment right after the follower's.
  it.each([
    { ahead: 'in one turn', flushes: 1 },
    { ahead: 'in 10 synced flushes, rolling segments past the follower’s', flushes: 10 },
  ])(
    'reloads with exactly one reset when the writer got ahead $ahead and compacted, then follows on to the writer’s state',
    async ({ flushes }) => {
      await withSeed('follower reset', async (rng) => {
        const dir = tempDir('tables')
        const writer = await writerAt(dir, 1024)
        randomBurst(writer, rng, 30)
        await writer.sync()
        // The follower looks for new commits only once a second and has no directory watch to wake it, so the
        // writer can get far ahead of it first.
        const { watch: _noWatch, ...pollOnly } = nodeFileLayer
        const follower = await openDb(Mixed, { dir, readOnly: true, followIntervalMs: 1000, fileLayer: pollOnly })
        const opened = follower.seq
        expect(opened).toBe(writer.seq)
        const followerEvents = recordEvents(follower)
        const writerEvents = recordEvents(writer)
        for (let i = 0; i < flushes; i++) {
          randomBurst(writer, rng, 300 / flushes)
          await writer.sync()
        }
        const { seq: compactedAt } = await writer.compact()
        const files = (await verifyLog(dir)).segments.map((s) => s.file)
        // Precondition of this scenario (not a race the test hides): the follower has not looked yet.
        expect(follower.seq, 'the follower polled before the compaction finished').toBe(opened)
        randomBurst(writer, rng, 20) // and the follower must go on with deltas after the reset
        await writer.sync()
        await waitForSeq(follower, writer.seq, 3000).catch((error: Error) => {
          error.message += ` (its log stopped at seq ${coreOf(follower).log.head.seq}; segments left by the compaction: ${files.join(', ')})`
          throw error
        })
        const resets = followerEvents.filter((e) => e.reset === true)
        expect(resets).toEqual([{ seq: compactedAt, changes: {}, reset: true }])
        expect(followerEvents[0]).toEqual(resets[0])
        // As plain Maps, compared without order: a rolled-back removal reorders the writer's maps (README, Transactions).
        expect(plain(followerEvents.slice(1))).toEqual(plain(after(writerEvents, compactedAt)))
        expect(dumpUnordered(follower)).toEqual(dumpUnordered(writer))
        await Promise.all([writer.close(), follower.close()])
      })
    },
  )
})

describe('followDb over a read-only Log', () => {
  it('follows like a read-only openDb, and close() leaves the source open', async () => {
    await withSeed('followDb', async (rng) => {
      const dir = tempDir('tables')
      const writer = await writerAt(dir)
      randomBurst(writer, rng, 20)
      await writer.sync()
      const log = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
      const follower = await followDb(Mixed, log)
      expect(follower.readOnly).toBe(true)
      expect(dumpUnordered(follower)).toEqual(dumpUnordered(writer))
      const start = follower.seq
      const writerEvents = recordEvents(writer)
      const followerEvents = recordEvents(follower)
      for (let burst = 1; burst <= 3; burst++) {
        randomBurst(writer, rng, 40)
        await writer.sync()
        await waitForSeq(follower, writer.seq)
        expect(dumpUnordered(follower), `burst ${burst}`).toEqual(dumpUnordered(writer))
      }
      expect(plain(followerEvents)).toEqual(plain(after(writerEvents, start)))
      expect(() => follower.meta.insert('x', 1)).toThrow(expect.objectContaining({ code: 'TABLES_READ_ONLY' }))

      await follower.close()
      expect(log.closed).toBe(false)
      // The source still works for its owner, and sees what the writer writes next.
      writer.meta.insert('after close', 1)
      await writer.sync()
      const last: Commit[] = []
      const controller = new AbortController()
      for await (const c of log.tail({ from: start, signal: controller.signal })) {
        last.push(c)
        if (c.seq === writer.seq) controller.abort()
      }
      expect(last.at(-1)?.seq).toBe(writer.seq)
      expect(follower.seq).toBe(writer.seq - 1) // the closed follower stopped following
      await Promise.all([writer.close(), log.close()])
    })
  })

  it('reloads with one reset when the source released the commits it needed while it was held back', async () => {
    await withSeed('followDb reset', async (rng) => {
      const dir = tempDir('tables')
      const writer = await writerAt(dir, 1024)
      randomBurst(writer, rng, 30)
      await writer.sync()
      const log = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
      // A source that hands the follower nothing new until `release` is called: the follower lags for sure,
      // while the log underneath keeps up with the writer's segments.
      let release!: () => void
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const source: CommitSource = {
        get start() {
          return log.start
        },
        latestSnapshot: () => log.latestSnapshot(),
        read: (options) => log.read(options),
        async *tail(options) {
          await gate
          yield* log.tail(options)
        },
      }
      const follower = await followDb(Mixed, source)
      const followerEvents = recordEvents(follower)
      const writerEvents = recordEvents(writer)
      randomBurst(writer, rng, 300)
      const { seq: compactedAt } = await writer.compact()
      randomBurst(writer, rng, 20)
      await writer.sync()
      // The log under the source has seen all of it, the released segments included; the follower nothing.
      await logReaches(log, writer.seq)
      expect(log.start.seq).toBeGreaterThan(follower.seq)
      expect(followerEvents).toEqual([])
      release()
      await waitForSeq(follower, writer.seq)
      expect(followerEvents.filter((e) => e.reset === true)).toEqual([{ seq: compactedAt, changes: {}, reset: true }])
      expect(plain(followerEvents.slice(1))).toEqual(plain(after(writerEvents, compactedAt)))
      expect(dumpUnordered(follower)).toEqual(dumpUnordered(writer))
      await follower.close()
      await Promise.all([writer.close(), log.close()])
    })
  })
})

describe('a follower whose schema lacks a table the writer writes', () => {
  const Both = schema({ a: lookupTable<string, number>(), b: list<string>() })
  const OnlyA = schema({ a: lookupTable<string, number>() })

  it('reports TABLES_UNKNOWN_TABLE through onError once and keeps following the other tables', async () => {
    const dir = tempDir('tables')
    const writer = await openDb(Both, { dir, durability: 'os' })
    writer.a.insert('x', 1)
    await writer.sync()
    const errors: unknown[] = []
    const follower = await openDb(OnlyA, {
      dir,
      readOnly: true,
      followIntervalMs: 5,
      onError: (e) => errors.push(e),
    })
    const events = recordEvents(follower)
    writer.b.push('one') // seq 2: only the undeclared table
    void writer.transaction(() => {
      writer.a.insert('y', 2) // seq 3: both tables
      writer.b.push('two')
    })
    writer.b.push('three') // seq 4
    writer.a.remove('x') // seq 5
    await writer.sync()
    await waitForSeq(follower, writer.seq)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TablesSchemaError)
    expect(errors[0]).toMatchObject({ code: 'TABLES_UNKNOWN_TABLE', context: { tables: ['b'], seq: 2 } })
    expect(dump(follower)).toEqual({ a: [['y', 2]] })
    expect(events.map((e) => e.seq)).toEqual([2, 3, 4, 5])
    expect(events[1]).toEqual({ seq: 3, changes: { a: [{ op: 'set', key: 'y', value: 2 }] } })
    expect(events[3]).toEqual({ seq: 5, changes: { a: [{ op: 'remove', key: 'x', previous: 1 }] } })
    await Promise.all([writer.close(), follower.close()])
  })

  it('stays silent about the tables its dropTables option names', async () => {
    const dir = tempDir('tables')
    const writer = await openDb(Both, { dir, durability: 'os' })
    writer.b.push('before')
    writer.a.insert('x', 1)
    await writer.sync()
    const errors: unknown[] = []
    const log = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
    const follower = await followDb(OnlyA, log, { dropTables: ['b'], onError: (e) => errors.push(e) })
    writer.a.insert('y', 2)
    writer.b.push('after')
    writer.a.insert('z', 3)
    await writer.sync()
    await waitForSeq(follower, writer.seq)
    expect(errors.map((e) => (e instanceof TablesError ? `${e.code} ${JSON.stringify(e.context)}` : e))).toEqual([])
    expect(dump(follower)).toEqual({
      a: [
        ['x', 1],
        ['y', 2],
        ['z', 3],
      ],
    })
    await follower.close()
    await Promise.all([writer.close(), log.close()])
  })
})

describe('a source with readBatches', () => {
  /** A source over `log` whose batches are the log's, minus the commit `skip` (none when undefined). */
  function batchedSource(log: Log, skip?: number): CommitSource & { batchesRead: number } {
    const source = {
      batchesRead: 0,
      get start() {
        return log.start
      },
      latestSnapshot: () => log.latestSnapshot(),
      read: (): never => {
        throw new Error('read() must not be used when the source has readBatches')
      },
      async *readBatches(options: { from: number }) {
        for await (const batch of log.readBatches(options)) {
          source.batchesRead++
          yield batch.filter((c) => c.seq !== skip)
        }
      },
      tail: (options: { from: number; signal: AbortSignal }) => log.tail(options),
    }
    return source
  }

  it('loads every commit through readBatches, a batch per await', async () => {
    await withSeed('followDb readBatches', async (rng) => {
      const dir = tempDir('tables')
      const writer = await writerAt(dir)
      randomBurst(writer, rng, 200)
      await writer.sync()
      const log = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
      const source = batchedSource(log)
      const follower = await followDb(Mixed, source)
      expect(follower.seq).toBe(writer.seq)
      expect(source.batchesRead).toBeGreaterThan(0)
      expect(source.batchesRead).toBeLessThan(writer.seq)
      expect(dumpUnordered(follower)).toEqual(dumpUnordered(writer))
      await follower.close()
      await Promise.all([writer.close(), log.close()])
    })
  })

  it('refuses a gap in the batches with TABLES_CORRUPT_OP naming the seq', async () => {
    const dir = tempDir('tables')
    const writer = await writerAt(dir)
    for (let i = 0; i < 5; i++) writer.meta.insert(`k${i}`, i)
    await writer.sync()
    const log = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
    const error = await followDb(Mixed, batchedSource(log, 3)).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TablesError)
    expect(error).toMatchObject({ code: 'TABLES_CORRUPT_OP', context: { seq: 4 } })
    await Promise.all([writer.close(), log.close()])
  })
})
