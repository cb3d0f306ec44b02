// Streams on a read-only follower: the writer's commits arrive as the same deltas, and a reload from a snapshot
// (the writer compacted away what the follower still needed) arrives as the documented reset, never a wrong delta.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog } from '@homedb/log'
import { followDb, lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, describe, expect, it } from 'vitest'
import { changes, keyState, state } from '../src/index.js'

const S = schema({ meta: lookupTable<string, { n: number }>() })
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function untilSeq(db: { seq: number; onCommit(l: (e: { seq: number }) => void): () => void }, seq: number) {
  return new Promise<void>((resolve) => {
    if (db.seq >= seq) return resolve()
    const off = db.onCommit((e) => {
      if (e.seq >= seq) {
        off()
        resolve()
      }
    })
  })
}

describe('streams on a follower', () => {
  it('emit the writer’s deltas, then a reset (not a delta) when the follower reloads from a snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homedb-reactive-follow-'))
    dirs.push(dir)
    const writer = await openDb(S, { dir, segmentBytes: 1024, autoCompact: false })
    writer.meta.insert('a', { n: 1 })
    await writer.sync()
    const follower = await openDb(S, { dir, readOnly: true, followIntervalMs: 5 })
    const deltas: unknown[] = []
    const views: { seq: number; reset: boolean; size: number }[] = []
    const values: unknown[] = []
    changes(follower.meta).subscribe((e) => deltas.push(e))
    state(follower.meta).subscribe((v) => views.push({ seq: v.seq, reset: v.reset, size: v.data.size }))
    keyState(follower.meta, 'a').subscribe((v) => values.push(v))

    writer.meta.insert('a', { n: 2 })
    await writer.sync()
    await untilSeq(follower, writer.seq)
    expect(deltas).toEqual([{ seq: 2, changes: [{ op: 'set', key: 'a', value: { n: 2 }, previous: { n: 1 } }] }])

    // A second follower whose source is held back while the writer writes, rolls segments and compacts them away.
    const log = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const held = {
      get start() {
        return log.start
      },
      latestSnapshot: () => log.latestSnapshot(),
      read: (o: { from: number }) => log.read(o),
      async *tail(o: { from: number; signal: AbortSignal }) {
        for await (const c of log.tail(o)) {
          await gate
          yield c
        }
      },
    }
    const lagging = await followDb(S, held)
    const laggingEvents: { seq: number; reset?: true; changes: number }[] = []
    const laggingViews: boolean[] = []
    changes(lagging.meta).subscribe((e) =>
      laggingEvents.push({ seq: e.seq, changes: e.changes.length, ...(e.reset ? { reset: true as const } : {}) }),
    )
    state(lagging.meta).subscribe((v) => laggingViews.push(v.reset))
    for (let i = 0; i < 200; i++) {
      writer.meta.insert(`k${i}`, { n: i })
      await writer.sync()
    }
    writer.meta.remove('a')
    await writer.compact()
    writer.meta.insert('z', { n: 0 })
    await writer.sync()
    await untilSeq(follower, writer.seq)
    expect(follower.meta.size).toBe(writer.meta.size)
    expect(values.at(-1)).toBeUndefined()
    expect(views.every((v) => !v.reset)).toBe(true)

    release()
    await untilSeq(lagging, writer.seq)
    const resets = laggingEvents.filter((e) => e.reset)
    expect(resets).toHaveLength(1)
    expect(resets[0]!.changes).toBe(0)
    expect(laggingViews.filter((r) => r)).toHaveLength(1)
    // No delta claims to start from a state the follower never had: every delta after the reset follows it.
    const afterReset = laggingEvents.slice(laggingEvents.indexOf(resets[0]!) + 1)
    for (const [i, e] of afterReset.entries()) expect(e.seq).toBe(resets[0]!.seq + i + 1)
    expect([...lagging.meta.data]).toEqual([...writer.meta.data])
    await lagging.close()
    await log.close()
    await follower.close()
    await writer.close()
  })
})
