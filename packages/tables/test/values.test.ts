import { dirBytes, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { list, lookupTable, openDb, schema, single, TablesInputError } from '../src/index.js'

const S = schema({ v: lookupTable<string, unknown>(), one: single<unknown>(), items: list<unknown>() })

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

function cyclic(): unknown {
  const a: Record<string, unknown> = { name: 'a' }
  a.self = { back: a }
  return a
}

function deep(levels: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = [v]
  return v
}

function sparse(): unknown[] {
  const a: unknown[] = [1]
  a[2] = 3
  return a
}

const withProto = JSON.parse('{"__proto__": 1}') as unknown

describe('value rules', () => {
  it.each<[string, () => unknown, string]>([
    ['a function', () => ({ f: () => 1 }), '$.f'],
    ['a symbol', () => ({ s: Symbol('x') }), '$.s'],
    ['a class instance', () => ({ p: new Point(1, 2) }), '$.p'],
    ['a Map', () => ({ m: new Map() }), '$.m'],
    ['a Set', () => [1, new Set()], '$[1]'],
    ['a RegExp', () => ({ r: /x/ }), '$.r'],
    ['an Error', () => ({ e: new Error('x') }), '$.e'],
    ['an Int16Array', () => ({ t: new Int16Array(2) }), '$.t'],
    ['a cycle', cyclic, '$.self.back'],
    ['-0', () => ({ n: -0 }), '$.n'],
    ['a lone surrogate in a string', () => ({ s: 'a\ud800' }), '$.s'],
    ['a lone surrogate in a property name', () => ({ 'a\udc00': 1 }), '$'],
    ['a bigint above int64', () => ({ b: 2n ** 63n }), '$.b'],
    ['a bigint below int64', () => ({ b: -(2n ** 63n) - 1n }), '$.b'],
    ['a hole in an array', () => ({ a: sparse() }), '$.a[1]'],
    ['an own __proto__ key', () => withProto, '$.__proto__'],
    ['nesting deeper than 1000 levels', () => deep(1005), '$'],
    ['a top-level undefined', () => undefined, '$'],
    ['a top-level function', () => () => 1, '$'],
    ['an Array subclass', () => ({ a: new (class extends Array {})() }), '$.a'],
  ])('refuses %s, naming table, key and path, and changes nothing', async (_, make, path) => {
    const dir = tempDir('tables')
    const db = await openDb(S, { dir })
    db.v.insert('ok', { fine: true })
    await db.sync()
    const bytes = dirBytes(dir)
    const value = make()
    let error: unknown
    try {
      db.v.insert('k', value)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TablesInputError)
    expect(error).toMatchObject({ code: 'TABLES_INVALID_VALUE', context: { table: 'v', key: 'k' } })
    expect((error as TablesInputError).context.path?.startsWith(path)).toBe(true)
    expect(() => db.one.insert(value)).toThrow(TablesInputError)
    expect(() => db.items.push(value)).toThrow(TablesInputError)
    expect([...db.v]).toEqual([['ok', { fine: true }]])
    expect(db.one.get()).toBeUndefined()
    expect(db.items.length).toBe(0)
    expect(db.seq).toBe(1)
    // nothing of the refused value was frozen
    if (typeof value === 'object' && value !== null) expect(Object.isFrozen(value)).toBe(false)
    await db.sync()
    expect(dirBytes(dir)).toEqual(bytes)
    await db.close()
  })

  it('stores every accepted type and gives back equal values after a reopen', async () => {
    const dir = tempDir('tables')
    const value = {
      nil: null,
      t: true,
      f: false,
      int: 42,
      neg: -7,
      big32: 2 ** 40,
      float: 1.5,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      minusInf: Number.NEGATIVE_INFINITY,
      max: Number.MAX_VALUE,
      tiny: Number.MIN_VALUE,
      str: 'héllo 🌍',
      empty: '',
      big: 123n,
      bigMin: -(2n ** 63n),
      bigMax: 2n ** 63n - 1n,
      date: new Date(1_700_000_000_123),
      bytes: new Uint8Array([1, 2, 3]),
      nested: { arr: [1, 'two', [3], { four: 4 }], undef: undefined },
      arrUndef: [undefined, 1],
      nullProto: Object.assign(Object.create(null), { a: 1 }),
      numericKeys: { 1: 'a', 10: 'b', x: 'c' },
      deep: deep(500),
    }
    const db = await openDb(S, { dir })
    db.v.insert('all', value)
    db.one.insert('just a string')
    db.items.push(0)
    db.items.push(null)
    db.items.push(2n)
    await db.close()
    const again = await openDb(S, { dir })
    const back = again.v.get('all') as typeof value
    expect({ ...back, bytes: undefined }).toEqual({ ...value, bytes: undefined })
    expect(Object.keys(back.nested)).toEqual(['arr', 'undef'])
    expect(back.bigMax).toBe(2n ** 63n - 1n)
    expect(back.date).toBeInstanceOf(Date)
    expect(back.date.getTime()).toBe(1_700_000_000_123)
    expect(back.bytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back.bytes)).toBe(true) // documented: binary comes back as a Node Buffer
    expect([...back.bytes]).toEqual([1, 2, 3])
    expect(again.one.get()).toBe('just a string')
    expect(again.items.data).toEqual([0, null, 2n])
    await again.close()
  })

  it('accepts the same object twice in one value (it is stored as two copies after a reopen)', async () => {
    const dir = tempDir('tables')
    const shared = { s: 1 }
    const db = await openDb(S, { dir })
    db.v.insert('k', { a: shared, b: shared })
    await db.close()
    const again = await openDb(S, { dir })
    const back = again.v.get('k') as { a: unknown; b: unknown }
    expect(back).toEqual({ a: { s: 1 }, b: { s: 1 } })
    await again.close()
  })

  it('stores a Uint8Array view as just its bytes', async () => {
    const dir = tempDir('tables')
    const backing = new Uint8Array([9, 9, 1, 2, 9])
    const db = await openDb(S, { dir })
    db.v.insert('k', backing.subarray(2, 4))
    await db.close()
    const again = await openDb(S, { dir })
    expect([...(again.v.get('k') as Uint8Array)]).toEqual([1, 2])
    await again.close()
  })
})
