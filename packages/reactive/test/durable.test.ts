// `{ durable: true }` on every stream: emissions follow db.onDurable, so nothing is emitted for a commit before it
// is durable, and the state streams only ever show durable states.
import { type FileHandleLike, type FileLayer, nodeFileLayer, type OpenMode } from '@homedb/log'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { plain, tempDir } from '@homedb/testkit'
import type { Observable } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { changes, commits, keyState, state } from '../src/index.js'

const S = schema({ meta: lookupTable<string, number>(), other: lookupTable<string, number>() })

/** The real file system, whose segment fdatasyncs can be held until released (to split commits into batches). */
function datasyncGate() {
  let held: Promise<void> | undefined
  let release = () => {}
  let entered = () => {}
  let enteredPromise = Promise.resolve()
  const layer: FileLayer = {
    ...nodeFileLayer,
    async open(path: string, mode: OpenMode): Promise<FileHandleLike> {
      const handle = await nodeFileLayer.open(path, mode)
      return {
        read: (b, o, l, p) => handle.read(b, o, l, p),
        write: (b, o, l, p) => handle.write(b, o, l, p),
        datasync: async () => {
          entered()
          await held
          return handle.datasync()
        },
        sync: () => handle.sync(),
        truncate: (n) => handle.truncate(n),
        size: () => handle.size(),
        close: () => handle.close(),
      }
    },
  }
  return {
    layer,
    hold() {
      held = new Promise((resolve) => {
        release = resolve
      })
      enteredPromise = new Promise((resolve) => {
        entered = resolve
      })
    },
    entered: () => enteredPromise,
    release: () => release(),
  }
}

async function open() {
  return openDb(S, { dir: tempDir('reactive') })
}

describe('durable streams', () => {
  it('commits and changes emit each commit after its in-memory event and before its promise settles', async () => {
    const db = await open()
    const order: string[] = []
    db.onCommit(({ seq }) => order.push(`commit:${seq}`))
    db.onDurable(({ seq }) => order.push(`onDurable:${seq}`))
    commits(db, { durable: true }).subscribe(({ seq }) => order.push(`commits:${seq}`))
    changes(db.meta, { durable: true }).subscribe(({ seq, changes }) => order.push(`changes:${seq}:${changes.length}`))
    const first = db.transaction(() => db.meta.insert('a', 1)).then(() => order.push('settled:1'))
    const second = db.transaction(() => db.other.insert('b', 2)).then(() => order.push('settled:2'))
    expect(order).toEqual(['commit:1', 'commit:2'])
    await Promise.all([first, second])
    expect(order).toEqual([
      'commit:1',
      'commit:2',
      'onDurable:1',
      'commits:1',
      'changes:1:1',
      'onDurable:2',
      'commits:2',
      'settled:1',
      'settled:2',
    ])
    await db.close()
  })

  it('state emits only durable states: after subscription once durable, then at durable commits', async () => {
    const db = await open()
    db.meta.insert('a', 1)
    const states: [number, unknown][] = []
    state(db.meta, { durable: true }).subscribe(({ seq, data }) => states.push([seq, plain(data)]))
    expect(states).toEqual([]) // seq 1 is not durable yet
    await db.sync()
    expect(states).toEqual([[1, new Map([['a', 1]])]])
    db.meta.insert('b', 2)
    db.other.insert('x', 0) // does not touch meta
    await db.sync()
    expect(states).toEqual([
      [1, new Map([['a', 1]])],
      [
        2,
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ],
    ])
    await db.close()
  })

  it('state skips a durable commit whose table a later, not yet durable commit touched', async () => {
    const gate = datasyncGate()
    const db = await openDb(S, { dir: tempDir('reactive'), fileLayer: gate.layer })
    await db.sync()
    const seen: number[] = []
    state(db.meta, { durable: true }).subscribe(({ seq }) => seen.push(seq))
    await db.sync()
    expect(seen).toEqual([0])
    gate.hold()
    db.meta.insert('a', 1) // seq 1
    const one = db.sync()
    await gate.entered() // the flush of seq 1 waits in its fdatasync
    db.meta.insert('a', 2) // seq 2: the next batch
    gate.release()
    await one
    // seq 1 is durable, but memory already holds seq 2 for meta: a state read now would not be durable.
    expect(seen).toEqual([0])
    await db.sync()
    expect(seen).toEqual([0, 2])
    await db.close()
  })

  it('keyState emits only durable values of its key', async () => {
    const db = await open()
    const values: unknown[] = []
    keyState(db.meta, 'k', { durable: true }).subscribe((v) => values.push(v))
    await db.sync()
    expect(values).toEqual([undefined])
    db.meta.insert('k', 1)
    db.meta.insert('other', 5)
    expect(values).toEqual([undefined])
    await db.sync()
    expect(values).toEqual([undefined, 1])
    db.meta.remove('k')
    await db.close()
    expect(values).toEqual([undefined, 1, undefined])
  })

  it("with 'memory' durability, emits right after the in-memory streams", async () => {
    const db = await openDb(S)
    const order: string[] = []
    changes(db.meta).subscribe(({ seq }) => order.push(`memory:${seq}`))
    changes(db.meta, { durable: true }).subscribe(({ seq }) => order.push(`durable:${seq}`))
    db.meta.insert('a', 1)
    db.meta.insert('a', 2)
    expect(order).toEqual(['memory:1', 'durable:1', 'memory:2', 'durable:2'])
    await db.close()
  })

  it('completes after the last durable emission when the db closes', async () => {
    const db = await open()
    const seen: string[] = []
    changes(db.meta, { durable: true }).subscribe({
      next: ({ seq }) => seen.push(`next:${seq}`),
      complete: () => seen.push('complete'),
    })
    db.meta.insert('a', 1)
    db.meta.insert('a', 2)
    await db.close()
    expect(seen).toEqual(['next:1', 'next:2', 'complete'])
  })

  it('errors with TABLES_READ_ONLY on a read-only db, and leaves the other streams working', async () => {
    const dir = tempDir('reactive')
    const writer = await openDb(S, { dir })
    const reader = await openDb(S, { dir, readOnly: true, followIntervalMs: 5 })
    const streams: Observable<unknown>[] = [
      commits(reader, { durable: true }),
      changes(reader.meta, { durable: true }),
      state(reader.meta, { durable: true }),
      keyState(reader.meta, 'a', { durable: true }),
    ]
    for (const stream of streams) {
      const error = await new Promise((resolve) => stream.subscribe({ error: resolve }))
      expect(error).toMatchObject({ code: 'TABLES_READ_ONLY' })
    }
    const seen = new Promise((resolve) => changes(reader.meta).subscribe(({ seq }) => resolve(seq)))
    writer.meta.insert('a', 1)
    await writer.sync()
    expect(await seen).toBe(1)
    await Promise.all([reader.close(), writer.close()])
  })
})
