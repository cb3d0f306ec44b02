// Model-based property test: random sequences of every operation on every table kind, random transactions that
// throw midway, random reopens and random crashes (the last segment cut at a random byte at or after its length
// at the last sync), checked step by step against a plain in-memory model.
//
// Reproduce a failure with the seed fast-check prints: HOMEDB_FC_SEED=<seed> HOMEDB_FC_RUNS=<n>.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { type FileHandleLike, type FileLayer, nodeFileLayer, type OpenMode } from '@homedb/log'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Db,
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  openDb,
  schema,
  single,
  TablesError,
} from '../src/index.js'
import { plain } from './support/plain.js'

const S = schema({
  one: single<unknown>(),
  map: lookupTable<K, unknown>(),
  items: list<unknown>(),
  lists: lookupList<K, unknown>(),
  sets: lookupSet<K, K>(),
  maps: lookupMap<K, K, unknown>(),
})
type K = string | number
type D = Db<(typeof S)['tables']>

// ------------------------------------------------------------------ operations

type Op =
  | { t: 'one.insert'; v: unknown }
  | { t: 'one.clear' }
  | { t: 'map.insert'; key: K; v: unknown }
  | { t: 'map.remove'; key: K }
  | { t: 'map.clear' }
  | { t: 'items.push'; v: unknown }
  | { t: 'items.pop' }
  | { t: 'items.remove'; i: number }
  | { t: 'items.clear' }
  | { t: 'lists.push'; key: K; v: unknown }
  | { t: 'lists.remove'; key: K; i: number }
  | { t: 'lists.createKey'; key: K }
  | { t: 'lists.clearKey'; key: K }
  | { t: 'lists.clear' }
  | { t: 'sets.insert'; key: K; m: K }
  | { t: 'sets.remove'; key: K; m: K }
  | { t: 'sets.createKey'; key: K }
  | { t: 'sets.clearKey'; key: K }
  | { t: 'sets.clear' }
  | { t: 'maps.insert'; key: K; key2: K; v: unknown }
  | { t: 'maps.remove'; key: K; key2: K }
  | { t: 'maps.createKey'; key: K }
  | { t: 'maps.clearKey'; key: K }
  | { t: 'maps.clear' }
  | { t: 'bad.value'; table: 'one' | 'map' | 'items' | 'lists' | 'maps' }
  | { t: 'bad.key'; table: 'map' | 'lists' | 'sets' | 'maps' }

type Step =
  | { s: 'op'; op: Op }
  | { s: 'txn'; ops: Op[]; throwAt: number | null; form: 'sync' | 'promise' }
  | { s: 'sync' }
  | { s: 'reopen' }
  | { s: 'crash'; cut: number }
  | { s: 'compact'; during: Op[] }
  | { s: 'compactCrash'; failAt: number; cut: number }

const key = fc.constantFrom<K>('a', 'b', 1)
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ n: fc.integer({ min: -1000, max: 1000 }), s: fc.string({ maxLength: 6 }) }),
  fc.record({ tags: fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }), nested: fc.record({ b: fc.boolean() }) }),
  fc.string({ maxLength: 8 }),
  fc.string({ minLength: 50, maxLength: 300 }),
  fc.integer(),
  fc.double().filter((x) => !Object.is(x, -0)),
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.date({ noInvalidDate: true }),
)
const index = fc.integer({ min: -1, max: 3 })

const op: fc.Arbitrary<Op> = fc.oneof(
  value.map((v) => ({ t: 'one.insert' as const, v })),
  fc.constant({ t: 'one.clear' as const }),
  fc.record({ key, v: value }).map((r) => ({ t: 'map.insert' as const, ...r })),
  key.map((k) => ({ t: 'map.remove' as const, key: k })),
  fc.constant({ t: 'map.clear' as const }),
  value.map((v) => ({ t: 'items.push' as const, v })),
  fc.constant({ t: 'items.pop' as const }),
  index.map((i) => ({ t: 'items.remove' as const, i })),
  fc.constant({ t: 'items.clear' as const }),
  fc.record({ key, v: value }).map((r) => ({ t: 'lists.push' as const, ...r })),
  fc.record({ key, i: index }).map((r) => ({ t: 'lists.remove' as const, ...r })),
  key.map((k) => ({ t: 'lists.createKey' as const, key: k })),
  key.map((k) => ({ t: 'lists.clearKey' as const, key: k })),
  fc.constant({ t: 'lists.clear' as const }),
  fc.record({ key, m: key }).map((r) => ({ t: 'sets.insert' as const, ...r })),
  fc.record({ key, m: key }).map((r) => ({ t: 'sets.remove' as const, ...r })),
  key.map((k) => ({ t: 'sets.createKey' as const, key: k })),
  key.map((k) => ({ t: 'sets.clearKey' as const, key: k })),
  fc.constant({ t: 'sets.clear' as const }),
  fc.record({ key, key2: key, v: value }).map((r) => ({ t: 'maps.insert' as const, ...r })),
  fc.record({ key, key2: key }).map((r) => ({ t: 'maps.remove' as const, ...r })),
  key.map((k) => ({ t: 'maps.createKey' as const, key: k })),
  key.map((k) => ({ t: 'maps.clearKey' as const, key: k })),
  fc.constant({ t: 'maps.clear' as const }),
  fc
    .constantFrom('one' as const, 'map' as const, 'items' as const, 'lists' as const, 'maps' as const)
    .map((table) => ({ t: 'bad.value' as const, table })),
  fc
    .constantFrom('map' as const, 'lists' as const, 'sets' as const, 'maps' as const)
    .map((table) => ({ t: 'bad.key' as const, table })),
)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: op.map((o) => ({ s: 'op' as const, op: o })) },
  {
    weight: 6,
    arbitrary: fc
      .array(op, { minLength: 0, maxLength: 8 })
      .chain((ops) =>
        fc
          .tuple(
            fc.option(fc.integer({ min: 0, max: ops.length }), { freq: 2 }),
            fc.constantFrom('sync' as const, 'promise' as const),
          )
          .map(([throwAt, form]) => ({ s: 'txn' as const, ops, throwAt, form })),
      ),
  },
  { weight: 2, arbitrary: fc.constant({ s: 'sync' as const }) },
  { weight: 1, arbitrary: fc.constant({ s: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((cut) => ({ s: 'crash' as const, cut })) },
  {
    weight: 2,
    arbitrary: fc.array(op, { maxLength: 6 }).map((during) => ({ s: 'compact' as const, during })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ failAt: fc.integer({ min: 1, max: 14 }), cut: fc.double({ min: 0, max: 1, noNaN: true }) })
      .map((r) => ({ s: 'compactCrash' as const, ...r })),
  },
)

// ------------------------------------------------------------------ the model

const BAD_VALUE = { fn: () => 1 }
const BAD_KEY = { not: 'a key' }

class Model {
  one: unknown = undefined
  map = new Map<K, unknown>()
  items: unknown[] = []
  lists = new Map<K, unknown[]>()
  sets = new Map<K, Set<K>>()
  maps = new Map<K, Map<K, unknown>>()

  clone(): Model {
    const m = new Model()
    m.one = this.one
    m.map = new Map(this.map)
    m.items = [...this.items]
    m.lists = new Map([...this.lists].map(([k, l]) => [k, [...l]]))
    m.sets = new Map([...this.sets].map(([k, s]) => [k, new Set(s)]))
    m.maps = new Map([...this.maps].map(([k, s]) => [k, new Map(s)]))
    return m
  }

  /** Applies an operation; returns what the db method returns, or throws `{ code }`. */
  apply(o: Op): unknown {
    const fail = (code: string): never => {
      throw { code }
    }
    switch (o.t) {
      case 'one.insert': {
        const p = this.one
        this.one = o.v
        return p
      }
      case 'one.clear': {
        const p = this.one
        this.one = undefined
        return p
      }
      case 'map.insert': {
        const p = this.map.get(o.key)
        this.map.set(o.key, o.v)
        return p
      }
      case 'map.remove': {
        const p = this.map.get(o.key)
        this.map.delete(o.key)
        return p
      }
      case 'map.clear':
        this.map = new Map()
        return undefined
      case 'items.push':
        return this.items.push(o.v) - 1
      case 'items.pop':
        if (this.items.length === 0) fail('TABLES_OUT_OF_RANGE')
        return this.items.pop()
      case 'items.remove':
        if (o.i < 0 || o.i >= this.items.length) fail('TABLES_OUT_OF_RANGE')
        return this.items.splice(o.i, 1)[0]
      case 'items.clear':
        this.items = []
        return undefined
      case 'lists.push': {
        let l: unknown[] | undefined = this.lists.get(o.key)
        if (!l) {
          l = []
          this.lists.set(o.key, l)
        }
        return l.push(o.v) - 1
      }
      case 'lists.remove': {
        const l = this.lists.get(o.key)
        if (!l || o.i < 0 || o.i >= l.length) fail('TABLES_OUT_OF_RANGE')
        return l!.splice(o.i, 1)[0]
      }
      case 'lists.createKey':
        if (this.lists.has(o.key)) return false
        this.lists.set(o.key, [])
        return true
      case 'lists.clearKey': {
        const p = this.lists.get(o.key)
        this.lists.delete(o.key)
        return p
      }
      case 'lists.clear':
        this.lists = new Map()
        return undefined
      case 'sets.insert': {
        let s: Set<K> | undefined = this.sets.get(o.key)
        if (!s) {
          s = new Set()
          this.sets.set(o.key, s)
        }
        if (s.has(o.m)) return false
        s.add(o.m)
        return true
      }
      case 'sets.remove':
        return this.sets.get(o.key)?.delete(o.m) ?? false
      case 'sets.createKey':
        if (this.sets.has(o.key)) return false
        this.sets.set(o.key, new Set())
        return true
      case 'sets.clearKey': {
        const p = this.sets.get(o.key)
        this.sets.delete(o.key)
        return p
      }
      case 'sets.clear':
        this.sets = new Map()
        return undefined
      case 'maps.insert': {
        let m: Map<K, unknown> | undefined = this.maps.get(o.key)
        if (!m) {
          m = new Map()
          this.maps.set(o.key, m)
        }
        const p = m.get(o.key2)
        m.set(o.key2, o.v)
        return p
      }
      case 'maps.remove': {
        const m = this.maps.get(o.key)
        const p = m?.get(o.key2)
        m?.delete(o.key2)
        return p
      }
      case 'maps.createKey':
        if (this.maps.has(o.key)) return false
        this.maps.set(o.key, new Map())
        return true
      case 'maps.clearKey': {
        const p = this.maps.get(o.key)
        this.maps.delete(o.key)
        return p
      }
      case 'maps.clear':
        this.maps = new Map()
        return undefined
      case 'bad.value':
        return fail('TABLES_INVALID_VALUE')
      case 'bad.key':
        return fail('TABLES_INVALID_KEY')
    }
  }
}

/** Runs an operation on the db; throws what the db throws. */
function run(db: D, o: Op): unknown {
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
function outcome(fn: () => unknown): { ok: unknown } | { code: string } {
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
const canonDb = (db: D): unknown =>
  canon({
    one: db.one.get(),
    map: db.map.data,
    items: db.items.data,
    lists: db.lists.data,
    sets: db.sets.data,
    maps: db.maps.data,
  })
const canonModel = (m: Model): unknown => canon(m)

// ------------------------------------------------------------------ the property

/** The real file layer, with an I/O error armed at the n-th operation from now (a power cut during compaction). */
class FaultyLayer implements FileLayer {
  private left: number | undefined
  arm(n: number): void {
    this.left = n
  }
  disarm(): void {
    this.left = undefined
  }
  private tick(): void {
    if (this.left === undefined) return
    if (--this.left <= 0) {
      this.left = 0
      throw Object.assign(new Error('EIO: injected by the model test'), { code: 'EIO' })
    }
  }
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    this.tick()
    return fn()
  }
  async open(file: string, mode: OpenMode): Promise<FileHandleLike> {
    const handle = await this.run(() => nodeFileLayer.open(file, mode))
    return {
      read: (b, o, l, p) => handle.read(b, o, l, p),
      write: (b, o, l, p) => this.run(() => handle.write(b, o, l, p)),
      datasync: () => this.run(() => handle.datasync()),
      sync: () => this.run(() => handle.sync()),
      truncate: (l) => this.run(() => handle.truncate(l)),
      size: () => handle.size(),
      close: () => handle.close(),
    }
  }
  readdir = (dir: string) => nodeFileLayer.readdir(dir)
  mkdir = (dir: string) => this.run(() => nodeFileLayer.mkdir(dir))
  rename = (from: string, to: string) => this.run(() => nodeFileLayer.rename(from, to))
  unlink = (file: string) => this.run(() => nodeFileLayer.unlink(file))
  syncDir = (dir: string) => this.run(() => nodeFileLayer.syncDir(dir))
  size = (file: string) => nodeFileLayer.size(file)
}

const segmentsOf = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => /^segment-\d+\.log$/.test(f))
    .sort()
const sizesOf = (dir: string): Map<string, number> =>
  new Map(segmentsOf(dir).map((f) => [f, fs.statSync(path.join(dir, f)).size]))

async function runSteps(steps: Step[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homedb-tables-model-'))
  const faults = new FaultyLayer()
  // Small segments so rolls happen all the time. Auto-compaction is off here: a background compaction syncs the
  // log behind the test's back, and the crash steps must know what is durable (it has tests of its own).
  const options = { dir, segmentBytes: 1024, fileLayer: faults, autoCompact: false as const }
  let db = (await openDb(S, options)) as D
  try {
    let model = new Model()
    /** Model state after each commit, by seq: a crash may land on any commit at or after the last sync. */
    const history = new Map<number, Model>([[0, model.clone()]])
    let synced = { seq: 0, sizes: sizesOf(dir) }

    const afterCommit = (before: number) => {
      expect(db.seq - before).toBeGreaterThanOrEqual(0)
      expect(db.seq - before).toBeLessThanOrEqual(1)
      if (db.seq !== before) history.set(db.seq, model.clone())
      expect(canonDb(db)).toEqual(canonModel(model))
    }

    for (const st of steps) {
      const before = db.seq
      switch (st.s) {
        case 'op': {
          const expected = outcome(() => model.apply(st.op))
          const got = outcome(() => run(db, st.op))
          expect(got).toEqual(expected)
          afterCommit(before)
          break
        }
        case 'txn': {
          const draft = model.clone()
          const userError = new Error('thrown by the transaction function')
          let expected: { ok: unknown } | { code: string } = { ok: st.ops.length }
          for (let i = 0; i <= st.ops.length; i++) {
            if (i === st.throwAt) {
              expected = { code: 'USER' }
              break
            }
            if (i === st.ops.length) break
            const r = outcome(() => draft.apply(st.ops[i]!))
            if ('code' in r) {
              expected = r
              break
            }
          }
          const fn = () => {
            for (let i = 0; i < st.ops.length; i++) {
              if (i === st.throwAt) throw userError
              run(db, st.ops[i]!)
            }
            if (st.throwAt === st.ops.length) throw userError
            return st.ops.length
          }
          const failed = (error: unknown) =>
            error === userError ? { code: 'USER' } : { code: (error as TablesError).code }
          let got: { ok: unknown } | { code: string }
          if (st.form === 'promise') {
            // Never throws: a failure is a rejection; success resolves with fn's result once durable.
            got = await db.transaction(fn).then((ok) => ({ ok }), failed)
          } else {
            try {
              got = { ok: db.transactionSync(fn) }
            } catch (error) {
              got = failed(error)
            }
          }
          expect(got).toEqual(expected)
          if ('ok' in expected) model = draft
          afterCommit(before)
          break
        }
        case 'sync':
          await db.sync()
          synced = { seq: db.seq, sizes: sizesOf(dir) }
          break
        case 'reopen': {
          await db.close()
          db = (await openDb(S, options)) as D
          expect(db.seq).toBe(before)
          expect(canonDb(db)).toEqual(canonModel(model))
          synced = { seq: db.seq, sizes: sizesOf(dir) }
          break
        }
        case 'compact': {
          // Writes made while the compaction runs must not leak into (or be lost from) its snapshot.
          const compaction = db.compact()
          for (const o of st.during) {
            const expected = outcome(() => model.apply(o))
            const got = outcome(() => run(db, o))
            expect(got).toEqual(expected)
            if (db.seq !== before) history.set(db.seq, model.clone())
            await new Promise((r) => setImmediate(r))
          }
          const info = await compaction
          expect(info.seq).toBeGreaterThanOrEqual(before)
          expect(canonDb(db)).toEqual(canonModel(model))
          synced = { seq: info.seq, sizes: sizesOf(dir) }
          break
        }
        case 'compactCrash':
        case 'crash': {
          if (st.s === 'compactCrash') {
            // Power fails at the failAt-th file operation of a compaction: the log stops (fail-stop) and the
            // process "dies" right there.
            faults.arm(st.failAt)
            const done = await db.compact().then(
              (info) => info,
              () => undefined,
            )
            faults.disarm()
            // A compaction syncs the log before its snapshot exists: a snapshot on disk vouches for its seq.
            const snapshotSeq = Math.max(
              done?.seq ?? 0,
              ...fs
                .readdirSync(dir)
                .filter((f) => /^snapshot-\d+\.snap$/.test(f))
                .map((f) => Number(f.slice(9, -5))),
            )
            if (snapshotSeq > synced.seq) synced = { seq: snapshotSeq, sizes: sizesOf(dir) }
          }
          await db.close().catch(() => {})
          const last = segmentsOf(dir).at(-1)!
          const file = path.join(dir, last)
          const size = fs.statSync(file).size
          // A segment born after the last sync was created by a roll that made its header durable before going on.
          const min = Math.min(synced.sizes.get(last) ?? 64, size)
          const cut = Math.min(size, min + Math.floor(st.cut * (size - min + 1)))
          fs.truncateSync(file, cut)
          db = (await openDb(S, options)) as D
          const seq = db.seq
          expect(seq).toBeGreaterThanOrEqual(synced.seq)
          expect(seq).toBeLessThanOrEqual(Math.max(...history.keys()))
          const at = history.get(seq)
          expect(at).toBeDefined()
          expect(canonDb(db)).toEqual(canonModel(at!))
          model = at!.clone()
          for (const s of [...history.keys()]) if (s > seq) history.delete(s)
          synced = { seq, sizes: sizesOf(dir) }
          break
        }
      }
    }
    await db.close()
    const again = (await openDb(S, options)) as D
    expect(canonDb(again)).toEqual(canonModel(model))
    db = again
  } finally {
    await db.close().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const runs = Number(process.env.HOMEDB_FC_RUNS ?? 150)
const seedEnv = process.env.HOMEDB_FC_SEED

describe('model-based', () => {
  it('matches a plain in-memory model through random operations, transactions, reopens and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80, size: 'max' }), runSteps),
      seedEnv === undefined ? { numRuns: runs } : { numRuns: runs, seed: Number(seedEnv) },
    )
  }, 120_000)
})
