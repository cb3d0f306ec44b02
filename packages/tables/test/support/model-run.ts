// The harness of the model-based test (model.test.ts): runs a sequence of steps against a db on real files and
// against the model (support/model.ts) side by side, and after each step checks that both returned the same and
// hold the same state. Power cuts are simulated by truncating the last segment at a random byte at or after its
// length at the last sync, and, inside a compaction, by an I/O error at its n-th file operation (the test kit's
// FaultyFileLayer) after which the process "dies".
import * as fs from 'node:fs'
import * as path from 'node:path'
import { nodeFileLayer } from '@homedb/log'
import { FaultyFileLayer, type FileOp, plain, tempDir } from '@homedb/testkit'
import { expect } from 'vitest'
import { openDb, TablesError } from '../../src/index.js'
import { BAD_KEY, BAD_VALUE, type D, type K, Model, type Op, S, type Step } from './model.js'

/** Runs an operation on the db; throws what the db throws. */
export function run(db: D, o: Op): unknown {
  switch (o.t) {
    case 'one.insert':
      return db.one.insert(o.v)
    case 'one.clear':
      return db.one.clear()
    case 'map.insert':
      return db.map.insert(o.key, o.v)
    case 'map.remove':
      return db.map.remove(o.key)
    case 'map.clear':
      return db.map.clear()
    case 'items.push':
      return db.items.push(o.v)
    case 'items.pop':
      return db.items.pop()
    case 'items.remove':
      return db.items.remove(o.i)
    case 'items.clear':
      return db.items.clear()
    case 'lists.push':
      return db.lists.push(o.key, o.v)
    case 'lists.remove':
      return db.lists.remove(o.key, o.i)
    case 'lists.createKey':
      return db.lists.createKey(o.key)
    case 'lists.clearKey':
      return db.lists.clearKey(o.key)
    case 'lists.clear':
      return db.lists.clear()
    case 'sets.insert':
      return db.sets.insert(o.key, o.m)
    case 'sets.remove':
      return db.sets.remove(o.key, o.m)
    case 'sets.createKey':
      return db.sets.createKey(o.key)
    case 'sets.clearKey':
      return db.sets.clearKey(o.key)
    case 'sets.clear':
      return db.sets.clear()
    case 'maps.insert':
      return db.maps.insert(o.key, o.key2, o.v)
    case 'maps.remove':
      return db.maps.remove(o.key, o.key2)
    case 'maps.createKey':
      return db.maps.createKey(o.key)
    case 'maps.clearKey':
      return db.maps.clearKey(o.key)
    case 'maps.clear':
      return db.maps.clear()
    case 'bad.value':
      switch (o.table) {
        case 'one':
          return db.one.insert(BAD_VALUE)
        case 'map':
          return db.map.insert('a', BAD_VALUE)
        case 'items':
          return db.items.push(BAD_VALUE)
        case 'lists':
          return db.lists.push('a', BAD_VALUE)
        case 'maps':
          return db.maps.insert('a', 'b', BAD_VALUE)
      }
      return undefined
    case 'bad.key':
      switch (o.table) {
        case 'map':
          return db.map.insert(BAD_KEY as never, 1)
        case 'lists':
          return db.lists.push(BAD_KEY as never, 1)
        case 'sets':
          return db.sets.insert('a', BAD_KEY as never)
        case 'maps':
          return db.maps.insert('a', BAD_KEY as never, 1)
      }
  }
}

/** Outcome of a call: its result, or the error code it threw. */
export function outcome(fn: () => unknown): { ok: unknown } | { code: string } {
  try {
    return { ok: normalise(fn()) }
  } catch (error) {
    if (error instanceof TablesError) return { code: error.code }
    if (typeof error === 'object' && error !== null && 'code' in error) return { code: String(error.code) }
    throw error
  }
}

/** Results compared as plain data (sets and maps, the db's read-only views of them included, as sorted arrays). */
function normalise(v: unknown): unknown {
  const p = plain(v)
  if (p instanceof Set) return sortKeys([...p])
  if (p instanceof Map) return sortEntries([...p])
  return p
}

const keyOrder = (a: K, b: K): number => {
  const x = `${typeof a}:${a}`
  const y = `${typeof b}:${b}`
  return x < y ? -1 : x > y ? 1 : 0
}
const sortKeys = (keys: K[]): K[] => keys.sort(keyOrder)
const sortEntries = <V>(entries: [K, V][]): [K, V][] => entries.sort((a, b) => keyOrder(a[0], b[0]))

/**
 * The state as plain data. Keyed tables are sorted by key: a rolled-back removal puts the key back at the end of
 * the map's iteration order (see README), so iteration order is not compared; lists are compared in order.
 */
function canon(t: {
  one: { get(): unknown } | unknown
  map: ReadonlyMap<K, unknown>
  items: readonly unknown[]
  lists: ReadonlyMap<K, readonly unknown[]>
  sets: ReadonlyMap<K, ReadonlySet<K>>
  maps: ReadonlyMap<K, ReadonlyMap<K, unknown>>
}): unknown {
  return {
    one: t.one,
    map: sortEntries([...t.map]),
    items: [...t.items],
    lists: sortEntries([...t.lists].map(([k, l]) => [k, [...l]])),
    sets: sortEntries([...t.sets].map(([k, s]) => [k, sortKeys([...s])])),
    maps: sortEntries([...t.maps].map(([k, m]) => [k, sortEntries([...m])])),
  }
}
export const canonDb = (db: D): unknown =>
  canon({
    one: db.one.get(),
    map: db.map.data,
    items: db.items.data,
    lists: db.lists.data,
    sets: db.sets.data,
    maps: db.maps.data,
  })
export const canonModel = (m: Model): unknown => canon(m)

/** The file operations a power cut during compaction can land on (reads, stats and closes cannot fail here). */
const CUTTABLE: readonly FileOp[] = [
  'open',
  'write',
  'datasync',
  'sync',
  'truncate',
  'mkdir',
  'rename',
  'unlink',
  'syncDir',
]

/** A "user" outcome: the transaction function threw its own error. */
type Outcome = { ok: unknown } | { code: string }

const segmentsOf = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => /^segment-\d+\.log$/.test(f))
    .sort()
const sizesOf = (dir: string): Map<string, number> =>
  new Map(segmentsOf(dir).map((f) => [f, fs.statSync(path.join(dir, f)).size]))

/** Runs `steps` against a fresh db and the model; throws (an expect failure) at the first difference. */
export async function runSteps(steps: readonly Step[]): Promise<void> {
  const run = await ModelRun.start()
  try {
    for (const step of steps) await run.step(step)
    await run.finish()
  } finally {
    await run.db.close().catch(() => {})
  }
}

/** One run of the property: the db, the model, and what is known to be durable. */
class ModelRun {
  db: D
  readonly #dir: string
  readonly #faults: FaultyFileLayer
  readonly #options: Parameters<typeof openDb>[1]
  #model = new Model()
  /** Model state after each commit, by seq: a crash may land on any commit at or after the last sync. */
  readonly #history = new Map<number, Model>([[0, new Model()]])
  /** The seq known durable, and the segments' sizes then. */
  #synced: { seq: number; sizes: Map<string, number> }

  private constructor(db: D, dir: string, faults: FaultyFileLayer, options: Parameters<typeof openDb>[1]) {
    this.db = db
    this.#dir = dir
    this.#faults = faults
    this.#options = options
    this.#synced = { seq: 0, sizes: sizesOf(dir) }
  }

  static async start(): Promise<ModelRun> {
    const dir = tempDir('tables-model')
    const faults = new FaultyFileLayer(nodeFileLayer)
    // Small segments so rolls happen all the time. Auto-compaction is off here: a background compaction syncs the
    // log behind the test's back, and the crash steps must know what is durable (it has tests of its own).
    const options = { dir, segmentBytes: 1024, fileLayer: faults, autoCompact: false as const }
    return new ModelRun((await openDb(S, options)) as D, dir, faults, options)
  }

  async step(st: Step): Promise<void> {
    const before = this.db.seq
    switch (st.s) {
      case 'op': {
        const expected = outcome(() => this.#model.apply(st.op))
        expect(outcome(() => run(this.db, st.op))).toEqual(expected)
        return this.#afterCommit(before)
      }
      case 'txn':
        await this.#transaction(st)
        return this.#afterCommit(before)
      case 'sync':
        await this.db.sync()
        this.#synced = { seq: this.db.seq, sizes: sizesOf(this.#dir) }
        return
      case 'reopen':
        return this.#reopen(before)
      case 'compact':
        return this.#compact(st.during, before)
      case 'compactCrash':
        await this.#compactionCut(st.failAt)
        return this.#crash(st.cut)
      case 'crash':
        return this.#crash(st.cut)
    }
  }

  /** Closes, reopens and compares once more. */
  async finish(): Promise<void> {
    await this.db.close()
    this.db = (await openDb(S, this.#options)) as D
    expect(canonDb(this.db)).toEqual(canonModel(this.#model))
  }

  #afterCommit(before: number): void {
    expect(this.db.seq - before).toBeGreaterThanOrEqual(0)
    expect(this.db.seq - before).toBeLessThanOrEqual(1)
    if (this.db.seq !== before) this.#history.set(this.db.seq, this.#model.clone())
    expect(canonDb(this.db)).toEqual(canonModel(this.#model))
  }

  /** A transaction of `st.ops`, thrown out of at `st.throwAt` if set, in either form. */
  async #transaction(st: Extract<Step, { s: 'txn' }>): Promise<void> {
    const draft = this.#model.clone()
    const expected = expectedTransaction(draft, st)
    const userError = new Error('thrown by the transaction function')
    const fn = () => {
      for (let i = 0; i < st.ops.length; i++) {
        if (i === st.throwAt) throw userError
        run(this.db, st.ops[i]!)
      }
      if (st.throwAt === st.ops.length) throw userError
      return st.ops.length
    }
    const failed = (error: unknown) => (error === userError ? { code: 'USER' } : { code: (error as TablesError).code })
    let got: Outcome
    if (st.form === 'promise') {
      // Never throws: a failure is a rejection; success resolves with fn's result once durable.
      got = await this.db.transaction(fn).then((ok) => ({ ok }), failed)
    } else {
      try {
        got = { ok: this.db.transactionSync(fn) }
      } catch (error) {
        got = failed(error)
      }
    }
    expect(got).toEqual(expected)
    if ('ok' in expected) this.#model = draft
  }

  async #reopen(before: number): Promise<void> {
    await this.db.close()
    this.db = (await openDb(S, this.#options)) as D
    expect(this.db.seq).toBe(before)
    expect(canonDb(this.db)).toEqual(canonModel(this.#model))
    this.#synced = { seq: this.db.seq, sizes: sizesOf(this.#dir) }
  }

  /** Writes made while the compaction runs must not leak into (or be lost from) its snapshot. */
  async #compact(during: readonly Op[], before: number): Promise<void> {
    const compaction = this.db.compact()
    for (const o of during) {
      const expected = outcome(() => this.#model.apply(o))
      expect(outcome(() => run(this.db, o))).toEqual(expected)
      if (this.db.seq !== before) this.#history.set(this.db.seq, this.#model.clone())
      await new Promise((r) => setImmediate(r))
    }
    const info = await compaction
    expect(info.seq).toBeGreaterThanOrEqual(before)
    expect(canonDb(this.db)).toEqual(canonModel(this.#model))
    this.#synced = { seq: info.seq, sizes: sizesOf(this.#dir) }
  }

  /**
   * Power fails at the failAt-th file operation of a compaction: the log stops (fail-stop) and the process "dies"
   * right there. A compaction syncs the log before its snapshot exists: a snapshot on disk vouches for its seq.
   */
  async #compactionCut(failAt: number): Promise<void> {
    this.#faults.arm({ op: CUTTABLE, nth: failAt, persistent: true })
    const done = await this.db.compact().then(
      (info) => info,
      () => undefined,
    )
    this.#faults.disarmAll()
    const snapshotSeq = Math.max(
      done?.seq ?? 0,
      ...fs
        .readdirSync(this.#dir)
        .filter((f) => /^snapshot-\d+\.snap$/.test(f))
        .map((f) => Number(f.slice(9, -5))),
    )
    if (snapshotSeq > this.#synced.seq) this.#synced = { seq: snapshotSeq, sizes: sizesOf(this.#dir) }
  }

  /** A power cut: the last segment is cut at a random byte at or after its length at the last sync. */
  async #crash(cutAt: number): Promise<void> {
    await this.db.close().catch(() => {})
    const last = segmentsOf(this.#dir).at(-1)!
    const file = path.join(this.#dir, last)
    const size = fs.statSync(file).size
    // A segment born after the last sync was created by a roll that made its header durable before going on.
    const min = Math.min(this.#synced.sizes.get(last) ?? 64, size)
    const cut = Math.min(size, min + Math.floor(cutAt * (size - min + 1)))
    fs.truncateSync(file, cut)
    this.db = (await openDb(S, this.#options)) as D
    const seq = this.db.seq
    expect(seq).toBeGreaterThanOrEqual(this.#synced.seq)
    expect(seq).toBeLessThanOrEqual(Math.max(...this.#history.keys()))
    const at = this.#history.get(seq)
    expect(at).toBeDefined()
    expect(canonDb(this.db)).toEqual(canonModel(at!))
    this.#model = at!.clone()
    for (const s of [...this.#history.keys()]) if (s > seq) this.#history.delete(s)
    this.#synced = { seq, sizes: sizesOf(this.#dir) }
  }
}

/** What a transaction must return: the model's first error, the user's throw, or the number of operations. */
function expectedTransaction(draft: Model, st: Extract<Step, { s: 'txn' }>): Outcome {
  for (let i = 0; i <= st.ops.length; i++) {
    if (i === st.throwAt) return { code: 'USER' }
    if (i === st.ops.length) break
    const r = outcome(() => draft.apply(st.ops[i]!))
    if ('code' in r) return r
  }
  return { ok: st.ops.length }
}
