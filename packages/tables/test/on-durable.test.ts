// onDurable: each commit's event, in seq order, once the commit is durable under the db's durability mode; never
// before the fdatasync (or OS write) that covers it, always after its onCommit event and before any durability
// promise covering it settles; never for a commit a log failure kept off the disk.
import { type FileLayer, nodeFileLayer, type OpenMode } from '@homedb/log'
import { FaultyFileLayer, isSegment, tempDir, wrapFileLayer } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type CommitEvent, list, lookupTable, openDb, schema } from '../src/index.js'

const S = schema({ meta: lookupTable<string, number>(), events: list<string>() })

/**
 * The real file system, recording every segment write and fdatasync (start and end) on a shared timeline. With
 * `dsync`, segments are opened with O_DSYNC where the platform gives it (a write is durable when it ends); without,
 * the option is not passed on, so the log makes batches durable with write + fdatasync.
 */
function recordingLayer(timeline: string[], dsync: boolean): FileLayer {
  const recorded = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    timeline.push(`${name}:start`)
    const result = await call()
    timeline.push(`${name}:end`)
    return result
  }
  return wrapFileLayer(nodeFileLayer, {
    ...(dsync ? {} : { open: (path: string, mode: OpenMode) => nodeFileLayer.open(path, mode) }),
    handle: (handle, path) =>
      isSegment(path)
        ? {
            write: (b, o, l, p) => recorded(handle.dsync === true ? 'dwrite' : 'write', () => handle.write(b, o, l, p)),
            // A batch written inline (any mode, see inlineWrites): the same record, before and after the call.
            writeSync: (b, o, l, p) => {
              const name = handle.dsync === true ? 'dwrite' : 'write'
              timeline.push(`${name}:start`)
              const written = handle.writeSync!(b, o, l, p)
              timeline.push(`${name}:end`)
              return written
            },
            datasync: () => recorded('datasync', () => handle.datasync()),
          }
        : {},
  })
}

/**
 * Checks, for every seq, the order the brief asks for: commit event, then a write that began after it, then (for
 * 'fsync') that write ended if it was an O_DSYNC write, or an fdatasync that began after it ended; then the durable
 * event, then the promise.
 */
function checkOrder(timeline: string[], seqs: number[], durability: 'fsync' | 'os'): void {
  for (const seq of seqs) {
    const commit = timeline.indexOf(`commit:${seq}`)
    const durable = timeline.indexOf(`durable:${seq}`)
    const settled = timeline.indexOf(`settled:${seq}`)
    expect(commit, `commit ${seq}`).toBeGreaterThanOrEqual(0)
    expect(durable, `durable ${seq} after its commit event`).toBeGreaterThan(commit)
    if (settled >= 0) expect(settled, `promise of ${seq} after its durable event`).toBeGreaterThan(durable)
    const write = timeline.findIndex((e, i) => i > commit && (e === 'write:start' || e === 'dwrite:start'))
    const durableWrite = timeline[write] === 'dwrite:start'
    const covered =
      durability === 'fsync' && !durableWrite
        ? timeline.indexOf('datasync:end', write)
        : timeline.indexOf(durableWrite ? 'dwrite:end' : 'write:end', write)
    expect(write, `a write began after commit ${seq}`).toBeGreaterThan(commit)
    expect(covered, `the ${durability} covering ${seq} ended before its durable event`).toBeGreaterThan(write)
    expect(covered).toBeLessThan(durable)
  }
}

describe('onDurable', () => {
  it.each([
    ['fsync', true],
    ['fsync', false],
    ['os', true],
  ] as const)(
    "with '%s' (O_DSYNC asked: %s), fires after the write (and fdatasync) covering each commit and before its promise settles",
    async (durability, dsync) => {
      const timeline: string[] = []
      const fileLayer = recordingLayer(timeline, dsync)
      const db = await openDb(S, { dir: tempDir('tables'), durability, fileLayer })
      db.onCommit(({ seq }) => timeline.push(`commit:${seq}`))
      db.onDurable(({ seq }) => timeline.push(`durable:${seq}`))
      const promises: Promise<unknown>[] = []
      for (let round = 0; round < 5; round++) {
        // Several commits in one turn (one group-commit batch), one outside a transaction, then a pause.
        for (let i = 0; i < 4; i++) {
          const p = db.transaction(() => db.events.push(`${round}.${i}`))
          const seq = db.seq
          promises.push(p.then(() => timeline.push(`settled:${seq}`)))
        }
        db.meta.insert(`k${round}`, round)
        await new Promise((resolve) => setImmediate(resolve))
      }
      await Promise.all(promises)
      await db.sync()
      const seqs = Array.from({ length: db.seq }, (_, i) => i + 1)
      expect(timeline.filter((e) => e.startsWith('durable:'))).toEqual(seqs.map((s) => `durable:${s}`))
      checkOrder(timeline, seqs, durability)
      // Both ways 'fsync' makes a batch durable were taken where asked (Linux gives O_DSYNC).
      expect(timeline.includes('dwrite:start')).toBe(dsync && durability === 'fsync')
      await db.close()
    },
  )

  it("with 'memory', fires right after the onCommit listeners, synchronously, in seq order", async () => {
    const db = await openDb(S)
    const order: string[] = []
    db.onCommit(({ seq }) => order.push(`commit:${seq}`))
    db.onDurable(({ seq }) => order.push(`durable:${seq}`))
    db.onCommit(({ seq }) => {
      if (seq === 1) db.events.push('made by a listener') // seq 2, delivered after seq 1 is done
      order.push(`commit-after:${seq}`)
    })
    db.events.push('a')
    expect(order).toEqual(['commit:1', 'commit-after:1', 'durable:1', 'commit:2', 'commit-after:2', 'durable:2'])
    await db.close()
  })

  it('hands durable listeners the same frozen event onCommit listeners got', async () => {
    const db = await openDb(S, { dir: tempDir('tables') })
    const seen: CommitEvent<(typeof S)['tables']>[] = []
    db.onCommit((e) => seen.push(e))
    db.onDurable((e) => seen.push(e))
    db.meta.insert('a', 1)
    await db.sync()
    expect(seen).toHaveLength(2)
    expect(seen[1]).toBe(seen[0])
    expect(seen[0]).toEqual({ seq: 1, changes: { meta: [{ op: 'set', key: 'a', value: 1, previous: undefined }] } })
    expect(Object.isFrozen(seen[0])).toBe(true)
    await db.close()
  })

  it('delivers the last durable events before close() resolves and before onClose listeners run', async () => {
    const db = await openDb(S, { dir: tempDir('tables') })
    const order: string[] = []
    db.onDurable(({ seq }) => order.push(`durable:${seq}`))
    db.onClose(() => order.push('onClose'))
    db.events.push('a')
    db.events.push('b')
    expect(order).toEqual([])
    await db.close()
    order.push('closed')
    expect(order).toEqual(['durable:1', 'durable:2', 'onClose', 'closed'])
  })

  it('never fires for a commit the log failed to make durable, and did fire for the ones before', async () => {
    const fileLayer = new FaultyFileLayer(nodeFileLayer)
    const db = await openDb(S, { dir: tempDir('tables'), fileLayer })
    const durable: number[] = []
    db.onDurable(({ seq }) => durable.push(seq))
    db.events.push('a')
    await db.sync()
    fileLayer.arm({ op: ['write', 'datasync', 'sync'], persistent: true })
    db.events.push('b')
    await expect(db.sync()).rejects.toMatchObject({ code: 'TABLES_LOG_FAILED' })
    await expect(db.close()).rejects.toMatchObject({ code: 'TABLES_LOG_FAILED' })
    expect(durable).toEqual([1])
  })

  it('stops calling a listener once unsubscribed, and isolates a throwing listener', async () => {
    const errors: unknown[] = []
    const db = await openDb(S, { onListenerError: (e) => errors.push(e) })
    const seen: number[] = []
    db.onDurable(() => {
      throw new Error('listener bug')
    })
    const off = db.onDurable(({ seq }) => seen.push(seq))
    db.events.push('a')
    off()
    off()
    db.events.push('b')
    expect(seen).toEqual([1])
    expect(errors).toHaveLength(2)
    expect(db.events.data).toEqual(['a', 'b'])
    await db.close()
  })

  it('is refused on a read-only db, which cannot know when the writer reaches the disk', async () => {
    const dir = tempDir('tables')
    const writer = await openDb(S, { dir })
    const reader = await openDb(S, { dir, readOnly: true })
    expect(() => reader.onDurable(() => {})).toThrow(expect.objectContaining({ code: 'TABLES_READ_ONLY' }))
    expect(() => writer.onDurable(42 as never)).toThrow(TypeError)
    await reader.close()
    await writer.close()
  })
})
