// The model of the model-based test (model.test.ts): the operations it draws on every table kind and the steps
// it runs (operations, transactions that may throw midway, syncs, reopens, crashes, compactions with writes during
// them, power cuts inside a compaction), and a plain in-memory model of the six tables that says what each operation
// must return and leave behind.
import fc from 'fast-check'
import { type Db, list, lookupList, lookupMap, lookupSet, lookupTable, schema, single } from '../../src/index.js'

/** The schema under test: one table of every kind. */
export const S = schema({
  one: single<unknown>(),
  map: lookupTable<K, unknown>(),
  items: list<unknown>(),
  lists: lookupList<K, unknown>(),
  sets: lookupSet<K, K>(),
  maps: lookupMap<K, K, unknown>(),
})
export type K = string | number
export type D = Db<(typeof S)['tables']>

export type Op =
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

export type Step =
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

export const op: fc.Arbitrary<Op> = fc.oneof(
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

export const step: fc.Arbitrary<Step> = fc.oneof(
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

export const BAD_VALUE = { fn: () => 1 }
export const BAD_KEY = { not: 'a key' }

export class Model {
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
