// Dead weight and the automatic compaction policy. What "only adds" means is the reference below (over change
// records); property tests check that it keeps everything the state held (over every table kind), and that what
// [APPLY] reports, live and at replay, agrees with it commit by commit. Then the policy: a log that only grew is left
// alone, live and after a reopen, while a commit that replaced or removed data (or a dropped table) makes it compact
// as before.
//
// Reproduce a failure with the seed fast-check prints: HOMEDB_FC_SEED=<seed> HOMEDB_FC_RUNS=<n>.
import * as fs from 'node:fs'
import { tempDir } from '@homedb/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { lookupTable, openDb, schema } from '../src/index.js'
import { coreOf } from '../src/internal/db-core.js'
import type { TableChange } from '../src/table-change.js'
import { dump } from './support/dump.js'
import { type D, op, S } from './support/model.js'
import { outcome, run } from './support/model-run.js'

/** The reference: a change only adds if it is a push, a member or key created, or a value set where none was. */
function onlyAdds(change: TableChange): boolean {
  switch (change.op) {
    case 'push':
    case 'insert':
    case 'createKey':
      return true
    case 'set':
      return change.previous === undefined
    default:
      return false
  }
}

const runs = Number(process.env.HOMEDB_FC_RUNS ?? 100)
const seedEnv = process.env.HOMEDB_FC_SEED

/** A value that stayed is the same stored value (frozen, never copied), so identity is what is compared. */
const same = Object.is
type Entries = [unknown, unknown][]

/** Whether every entry of `before` is in `after` with a value that `inner` says still holds the old one. */
function entriesKept(before: unknown, after: unknown, inner: (b: unknown, a: unknown) => boolean): boolean {
  const found = new Map((after as Entries).map(([k, v]) => [k, v]))
  return (before as Entries).every(([k, v]) => found.has(k) && inner(v, found.get(k)))
}
const prefixKept = (before: unknown, after: unknown): boolean =>
  (before as unknown[]).every((v, i) => same(v, (after as unknown[])[i]))
const membersKept = (before: unknown, after: unknown): boolean =>
  (before as unknown[]).every((m) => (after as unknown[]).includes(m))

/** Whether table `name` of the model schema still holds everything it held (`before` and `after`: its dumps). */
function holdsAll(name: string, before: unknown, after: unknown): boolean {
  switch (name) {
    case 'one':
      return before === undefined || same(before, after)
    case 'map':
      return entriesKept(before, after, same)
    case 'items':
      return prefixKept(before, after)
    case 'lists':
      return entriesKept(before, after, prefixKept)
    case 'sets':
      return entriesKept(before, after, membersKept)
    case 'maps':
      return entriesKept(before, after, (b, a) => entriesKept(b, a, same))
    default:
      throw new Error(`no such table in the model schema: ${name}`)
  }
}

/** Runs `group` as one commit (one operation alone, several in a transaction); its changes, if it committed. */
function commitOf(db: D, group: readonly Parameters<typeof run>[1][]): TableChange[] | undefined {
  let changes: TableChange[] | undefined
  const off = db.onCommit((event) => {
    changes = Object.values(event.changes as Record<string, TableChange[]>).flat()
  })
  if (group.length === 1) outcome(() => run(db, group[0]!))
  else {
    db.transactionSync(() => {
      for (const o of group) outcome(() => run(db, o))
    })
  }
  off()
  return changes
}

describe('dead weight', () => {
  it('a commit whose changes only add leaves every value the state held where it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const db = await openDb(S, { durability: 'memory' })
        try {
          for (const o of ops) {
            const before = dump(db)
            const changes = commitOf(db, [o])
            if (changes === undefined || changes.length === 0 || !changes.every(onlyAdds)) continue
            const after = dump(db)
            for (const name of Object.keys(before)) {
              expect([o.t, name, holdsAll(name, before[name], after[name])]).toEqual([o.t, name, true])
            }
          }
        } finally {
          await db.close()
        }
      }),
      seedEnv === undefined ? { numRuns: runs } : { numRuns: runs, seed: Number(seedEnv) },
    )
  })
})

const Rows = schema({ rows: lookupTable<string, { n: number; pad: string }>() })
const Other = schema({ other: lookupTable<string, number>() })
const POLICY = { ratio: 2, minBytes: 4096 } as const
const row = (n: number) => ({ n, pad: 'x'.repeat(40) })
const snapshots = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('snapshot-'))

/** Inserts `count` new keys from `from` on, each its own commit (~60 bytes each: far past the policy's 8 KiB). */
function insertNew(
  db: { rows: { insert(k: string, v: { n: number; pad: string }): unknown } },
  from: number,
  count: number,
) {
  for (let i = from; i < from + count; i++) db.rows.insert(`k${i}`, row(i))
}

const commitGroup = fc.oneof(
  op.map((o) => [o]),
  fc.array(op, { minLength: 2, maxLength: 5 }),
)

describe('what [APPLY] reports', () => {
  it('agrees with the reference for every commit (alone or a transaction), live and when the log is replayed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commitGroup, { minLength: 1, maxLength: 40 }), async (groups) => {
        const dir = tempDir('tables')
        const db = await openDb(S, { dir, durability: 'os', autoCompact: false })
        const counted = () => coreOf(db).compactor.deadWeightCommits
        let expected = 0
        for (const group of groups) {
          const before = counted()
          const changes = commitOf(db, group)
          if (changes === undefined) continue
          const dead = changes.length === 0 || !changes.every(onlyAdds)
          if (dead) expected++
          const names = group.map((o) => o.t)
          expect([names, counted() - before]).toEqual([names, dead ? 1 : 0])
        }
        expect(counted()).toBe(expected)
        await db.close()
        const again = await openDb(S, { dir, autoCompact: false })
        expect(coreOf(again).compactor.deadWeightCommits).toBe(expected)
        await again.close()
      }),
      seedEnv === undefined ? { numRuns: runs } : { numRuns: runs, seed: Number(seedEnv) },
    )
  })
})

describe('the automatic policy and dead weight', () => {
  it('leaves a log that only grew alone however long, and compacts once a commit replaces a value', async () => {
    const dir = tempDir('tables')
    const db = await openDb(Rows, { dir, autoCompact: POLICY })
    insertNew(db, 0, 1000)
    await db.sync()
    // close() waits for any compaction the policy started, so the count below is final.
    await db.close()
    expect(snapshots(dir)).toEqual([])
    const again = await openDb(Rows, { dir, autoCompact: POLICY })
    expect(again.rows.size).toBe(1000)
    insertNew(again, 1000, 10)
    await again.sync()
    expect(snapshots(dir)).toEqual([])
    again.rows.insert('k5', row(-5))
    await again.sync()
    await again.close()
    expect(snapshots(dir)).toHaveLength(1)
    const reopened = await openDb(Rows, { dir, autoCompact: false })
    expect([reopened.rows.size, reopened.rows.get('k5')?.n]).toEqual([1010, -5])
    await reopened.close()
  })

  it('counts the dead weight it replays at open: the next commit compacts', async () => {
    const dir = tempDir('tables')
    const writer = await openDb(Rows, { dir, autoCompact: false })
    insertNew(writer, 0, 1000)
    writer.rows.remove('k3')
    await writer.close()
    const db = await openDb(Rows, { dir, autoCompact: POLICY })
    insertNew(db, 1000, 1)
    await db.sync()
    await db.close()
    expect(snapshots(dir)).toHaveLength(1)
  })

  it('counts a dropped table as dead weight', async () => {
    const dir = tempDir('tables')
    const writer = await openDb(Other, { dir, autoCompact: false })
    for (let i = 0; i < 1000; i++) writer.other.insert(`o${i}`, i)
    await writer.close()
    const db = await openDb(Rows, { dir, autoCompact: POLICY, dropTables: ['other'] })
    await db.close()
    expect(snapshots(dir)).toHaveLength(1)
  })

  it('compacts a log that only grew when asked', async () => {
    const dir = tempDir('tables')
    const db = await openDb(Rows, { dir, autoCompact: POLICY })
    insertNew(db, 0, 1000)
    const info = await db.compact()
    expect(info.ops).toBe(1000)
    await db.close()
    expect(snapshots(dir)).toHaveLength(1)
  })
})
