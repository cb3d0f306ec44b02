// Every refused operation leaves memory and the files exactly as they were.
import { nodeFileLayer } from '@homedb/log'
import { dirBytes, FaultyFileLayer, tempDir } from '@homedb/testkit'
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
  TablesLogError,
} from '../src/index.js'
import { dump } from './support/dump.js'

const S = schema({
  one: single<{ n: number }>(),
  map: lookupTable<string, { n: number }>(),
  items: list<{ n: number }>(),
  lists: lookupList<string, { n: number }>(),
  sets: lookupSet<string, string>(),
  maps: lookupMap<string, string, { n: number }>(),
})
type D = Db<(typeof S)['tables']>

function seed(db: D): void {
  db.one.insert({ n: 1 })
  db.map.insert('a', { n: 1 })
  db.items.push({ n: 1 })
  db.lists.push('a', { n: 1 })
  db.sets.insert('a', 'x')
  db.maps.insert('a', 'x', { n: 1 })
}

const bad = { f: () => 1 } as never
const badKey = { k: 1 } as never

/** Every mutation method once, with valid arguments. */
const validMutations: [string, (db: D) => unknown][] = [
  ['single.insert', (db) => db.one.insert({ n: 2 })],
  ['single.clear', (db) => db.one.clear()],
  ['lookupTable.insert', (db) => db.map.insert('b', { n: 2 })],
  ['lookupTable.remove', (db) => db.map.remove('a')],
  ['lookupTable.clear', (db) => db.map.clear()],
  ['list.push', (db) => db.items.push({ n: 2 })],
  ['list.pop', (db) => db.items.pop()],
  ['list.remove', (db) => db.items.remove(0)],
  ['list.clear', (db) => db.items.clear()],
  ['lookupList.push', (db) => db.lists.push('a', { n: 2 })],
  ['lookupList.remove', (db) => db.lists.remove('a', 0)],
  ['lookupList.createKey', (db) => db.lists.createKey('b')],
  ['lookupList.clearKey', (db) => db.lists.clearKey('a')],
  ['lookupList.clear', (db) => db.lists.clear()],
  ['lookupSet.insert', (db) => db.sets.insert('a', 'y')],
  ['lookupSet.remove', (db) => db.sets.remove('a', 'x')],
  ['lookupSet.createKey', (db) => db.sets.createKey('b')],
  ['lookupSet.clearKey', (db) => db.sets.clearKey('a')],
  ['lookupSet.clear', (db) => db.sets.clear()],
  ['lookupMap.insert', (db) => db.maps.insert('a', 'y', { n: 2 })],
  ['lookupMap.remove', (db) => db.maps.remove('a', 'x')],
  ['lookupMap.createKey', (db) => db.maps.createKey('b')],
  ['lookupMap.clearKey', (db) => db.maps.clearKey('a')],
  ['lookupMap.clear', (db) => db.maps.clear()],
  ['transactionSync', (db) => db.transactionSync(() => db.one.insert({ n: 3 }))],
  ['transaction', (db) => db.transaction(() => db.one.insert({ n: 3 }))],
]

/** A transaction form: `db.transactionSync` (throws) or `db.transaction` (rejects). */
type Txn = (fn: () => unknown) => unknown

/** Invalid calls and the code each must fail with; transactional ones run in the transaction form they are given. */
const invalidCalls: [string, string, (db: D, txn: Txn) => unknown][] = [
  ['single.insert bad value', 'TABLES_INVALID_VALUE', (db) => db.one.insert(bad)],
  ['lookupTable.insert bad key', 'TABLES_INVALID_KEY', (db) => db.map.insert(badKey, { n: 1 })],
  ['lookupTable.insert bad value', 'TABLES_INVALID_VALUE', (db) => db.map.insert('a', bad)],
  ['lookupTable.remove bad key', 'TABLES_INVALID_KEY', (db) => db.map.remove(badKey)],
  ['list.push bad value', 'TABLES_INVALID_VALUE', (db) => db.items.push(bad)],
  ['list.remove out of range', 'TABLES_OUT_OF_RANGE', (db) => db.items.remove(1)],
  ['list.pop twice', 'TABLES_OUT_OF_RANGE', (db, txn) => txn(() => [db.items.pop(), db.items.pop()])],
  ['lookupList.push bad key', 'TABLES_INVALID_KEY', (db) => db.lists.push(badKey, { n: 1 })],
  ['lookupList.push bad value', 'TABLES_INVALID_VALUE', (db) => db.lists.push('a', bad)],
  ['lookupList.remove out of range', 'TABLES_OUT_OF_RANGE', (db) => db.lists.remove('a', 1)],
  ['lookupList.remove missing key', 'TABLES_OUT_OF_RANGE', (db) => db.lists.remove('zz', 0)],
  ['lookupList.createKey bad key', 'TABLES_INVALID_KEY', (db) => db.lists.createKey(badKey)],
  ['lookupList.clearKey bad key', 'TABLES_INVALID_KEY', (db) => db.lists.clearKey(badKey)],
  ['lookupSet.insert bad member', 'TABLES_INVALID_KEY', (db) => db.sets.insert('a', badKey)],
  ['lookupSet.remove bad key', 'TABLES_INVALID_KEY', (db) => db.sets.remove(badKey, 'x')],
  ['lookupSet.createKey bad key', 'TABLES_INVALID_KEY', (db) => db.sets.createKey(badKey)],
  ['lookupSet.clearKey bad key', 'TABLES_INVALID_KEY', (db) => db.sets.clearKey(badKey)],
  ['lookupMap.insert bad key2', 'TABLES_INVALID_KEY', (db) => db.maps.insert('a', badKey, { n: 1 })],
  ['lookupMap.insert bad value', 'TABLES_INVALID_VALUE', (db) => db.maps.insert('a', 'b', bad)],
  ['lookupMap.remove bad key', 'TABLES_INVALID_KEY', (db) => db.maps.remove(badKey, 'x')],
  ['lookupMap.createKey bad key', 'TABLES_INVALID_KEY', (db) => db.maps.createKey(badKey)],
  ['lookupMap.clearKey bad key', 'TABLES_INVALID_KEY', (db) => db.maps.clearKey(badKey)],
  [
    'transaction with a bad value after good ones',
    'TABLES_INVALID_VALUE',
    (db, txn) =>
      txn(() => {
        db.map.insert('new', { n: 5 })
        db.items.clear()
        db.maps.insert('a', 'b', bad)
      }),
  ],
  ['async transaction', 'TABLES_ASYNC_TRANSACTION', (db, txn) => txn((async () => db.items.clear()) as never)],
  [
    'transaction returning a thenable',
    'TABLES_ASYNC_TRANSACTION',
    (db, txn) =>
      txn((() => {
        db.items.clear()
        // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is what is tested
        return { then: () => {} }
      }) as never),
  ],
  [
    'nested transaction throwing, caught by the outer one',
    'TABLES_OUT_OF_RANGE',
    (db, txn) =>
      txn(() => {
        db.map.clear()
        try {
          db.transaction(() => {
            db.sets.clear()
            db.items.remove(7)
          })
        } catch {
          // the outer transaction is aborted anyway
        }
      }),
  ],
]

function codeOf(action: () => unknown): string | undefined {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(TablesError)
    return (error as TablesError).code
  }
  return undefined
}

/** The code `action` fails with: thrown, or (for `transaction()`, which never throws) its promise's rejection. */
async function failureCodeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action()
  } catch (error) {
    expect(error).toBeInstanceOf(TablesError)
    return (error as TablesError).code
  }
  return undefined
}

async function seededOnDisk(options: Parameters<typeof openDb>[1] = {}): Promise<{ db: D; dir: string }> {
  const dir = tempDir('tables')
  const db = (await openDb(S, { dir, ...options })) as D
  seed(db)
  await db.sync()
  return { db, dir }
}

describe('refused operations change nothing in memory or on disk', () => {
  it.each(invalidCalls)('%s throws %s', async (_, code, action) => {
    const { db, dir } = await seededOnDisk()
    const state = dump(db)
    const bytes = dirBytes(dir)
    const seq = db.seq
    expect(codeOf(() => action(db, (fn) => db.transactionSync(fn)))).toBe(code)
    expect(dump(db)).toEqual(state)
    expect(db.seq).toBe(seq)
    await db.sync()
    expect(dirBytes(dir)).toEqual(bytes)
    await db.close()
    const again = (await openDb(S, { dir })) as D
    expect(dump(again)).toEqual(state)
    await again.close()
  })

  // The entries whose action takes a transaction form (two parameters).
  it.each(invalidCalls.filter(([, , action]) => action.length === 2))(
    '%s through transaction() rejects with %s, never throws, and changes nothing',
    async (_, code, action) => {
      const { db, dir } = await seededOnDisk()
      const state = dump(db)
      const bytes = dirBytes(dir)
      const seq = db.seq
      let result: unknown
      expect(() => {
        result = action(db, (fn) => db.transaction(fn))
      }).not.toThrow()
      expect(result).toBeInstanceOf(Promise)
      await expect(result).rejects.toMatchObject({ code })
      expect(dump(db)).toEqual(state)
      expect(db.seq).toBe(seq)
      await db.sync()
      expect(dirBytes(dir)).toEqual(bytes)
      await db.close()
    },
  )

  it.each(validMutations)('%s on a closed db fails with TABLES_CLOSED', async (_, action) => {
    const { db, dir } = await seededOnDisk()
    await db.close()
    const state = dump(db)
    const bytes = dirBytes(dir)
    expect(await failureCodeOf(() => action(db))).toBe('TABLES_CLOSED')
    expect(dump(db)).toEqual(state)
    expect(dirBytes(dir)).toEqual(bytes)
  })

  it.each(validMutations.filter(([name]) => !name.startsWith('transaction')))(
    '%s on a read-only db throws TABLES_READ_ONLY',
    async (_, action) => {
      const { db: writer, dir } = await seededOnDisk()
      await writer.close()
      const bytes = dirBytes(dir)
      const db = (await openDb(S, { dir, readOnly: true })) as D
      const state = dump(db)
      expect(codeOf(() => action(db))).toBe('TABLES_READ_ONLY')
      expect(dump(db)).toEqual(state)
      await db.close()
      expect(dirBytes(dir)).toEqual(bytes)
    },
  )

  it.each(validMutations)('%s after the log failed fails with TABLES_LOG_FAILED', async (_, action) => {
    const fileLayer = new FaultyFileLayer(nodeFileLayer)
    const { db, dir } = await seededOnDisk({ fileLayer })
    fileLayer.arm({ op: ['write', 'datasync', 'sync'], persistent: true })
    db.items.push({ n: 99 }) // accepted in memory; its write fails and the log stops
    const failure = await db.sync().catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(TablesLogError)
    expect(failure).toMatchObject({ code: 'TABLES_LOG_FAILED', context: { logCode: 'LOG_FAILED' } })
    const state = dump(db)
    const seq = db.seq
    const bytes = dirBytes(dir)
    expect(await failureCodeOf(() => action(db))).toBe('TABLES_LOG_FAILED')
    expect(dump(db)).toEqual(state)
    expect(db.seq).toBe(seq)
    expect(dirBytes(dir)).toEqual(bytes)
    // close() reports the commit the failure kept from becoming durable
    await expect(db.close()).rejects.toMatchObject({ code: 'TABLES_LOG_FAILED' })
  })

  it('rejects a transaction promise whose commit the log failed to write', async () => {
    const fileLayer = new FaultyFileLayer(nodeFileLayer)
    const { db } = await seededOnDisk({ fileLayer })
    fileLayer.arm({ op: ['write', 'datasync', 'sync'], persistent: true })
    const promise = db.transaction(() => db.items.push({ n: 2 }))
    await expect(promise).rejects.toMatchObject({ code: 'TABLES_LOG_FAILED' })
    await expect(db.close()).rejects.toMatchObject({ code: 'TABLES_LOG_FAILED' })
  })

  it('refuses a commit over the log frame limit with TABLES_TOO_LARGE', async () => {
    const { db, dir } = await seededOnDisk({ maxPayloadBytes: 200 })
    const state = dump(db)
    const bytes = dirBytes(dir)
    expect(codeOf(() => db.map.insert('big', { n: 1, ...{ s: 'x'.repeat(500) } } as never))).toBe('TABLES_TOO_LARGE')
    expect(
      codeOf(() =>
        db.transactionSync(() => {
          for (let i = 0; i < 50; i++) db.items.push({ n: i })
        }),
      ),
    ).toBe('TABLES_TOO_LARGE')
    await expect(
      db.transaction(() => {
        for (let i = 0; i < 50; i++) db.items.push({ n: i })
      }),
    ).rejects.toMatchObject({ code: 'TABLES_TOO_LARGE' })
    expect(dump(db)).toEqual(state)
    await db.sync()
    expect(dirBytes(dir)).toEqual(bytes)
    db.items.push({ n: 3 })
    await db.close()
  })
})
