// What a TypeScript user writes against the published packages: copied into the fresh npm project that installed
// the packed tarballs and type-checked there (never run) with the oldest and the newest TypeScript we support and
// `skipLibCheck: false`, so every shipped .d.ts is checked too. The `@ts-expect-error` lines prove the types are
// real: if a type silently became `any`, the expected error would be missing and the check would fail.
import { openLog } from '@homedb/log'
import { changes, keyState, state } from '@homedb/reactive'
import { headPosition, type OperatorUiOptions, startHomeServer } from '@homedb/replication'
import {
  type Db,
  decodeCommitOps,
  type InferDb,
  list,
  lookupList,
  lookupSet,
  lookupTable,
  openDb,
  readLogState,
  schema,
  single,
  TablesError,
  verifyDb,
} from '@homedb/tables'

interface FileMeta {
  name: string
  size: number
  tags: string[]
}

/** A hand-written Standard Schema (what zod, valibot or arktype provide), so the consumer needs no validator. */
const Size = {
  '~standard': {
    version: 1 as const,
    vendor: 'consumer',
    validate: (value: unknown) =>
      typeof value === 'number' && value >= 0 ? { value } : { issues: [{ message: 'not a size' }] },
    types: undefined as unknown as { input: number; output: number },
  },
}

const Core = schema({
  account: single<{ name: string }>(),
  files: lookupTable<string, FileMeta>({ key: 'string' }),
  sizes: lookupTable({ key: 'string', schema: Size }),
  events: list<{ at: number; what: string }>(),
  history: lookupList<string, number>(),
  children: lookupSet<string, string>(),
})

export async function use(dir: string): Promise<void> {
  const db: Db<typeof Core> = await openDb(Core, { dir })
  const same: InferDb<typeof Core> = db

  const id = same.transactionSync(() => {
    db.files.insert('f1', { name: 'a.md', size: 1, tags: [] })
    return db.events.push({ at: 1, what: 'created' })
  })
  const index: number = id
  await db
    .transaction(() => db.files.update('f1', (f) => ({ ...f, size: 2 })))
    .catch((e: unknown) => {
      if (e instanceof TablesError) console.log(e.code)
    })
  db.sizes.insert('s', 3)
  db.onDurable(({ seq, changes }) => console.log(seq, changes.files?.length))

  for (const [key, meta] of db.files) {
    const size: number = meta.size
    // @ts-expect-error values are typed (not any): size is a number
    const wrong: string = meta.size
    console.log(key, size, wrong, index)
  }
  const keys: string[] = [...db.files.keys()]
  const sets: ReadonlySet<string>[] = [...db.children.values()]
  const lists: (readonly number[])[] = [...db.history.values()]
  // @ts-expect-error keys are typed: this table's keys are strings
  db.files.insert(42, { name: 'b', size: 1, tags: [] })
  // @ts-expect-error the data view is read-only
  db.files.data.set('x', { name: 'x', size: 1, tags: [] })

  changes(db.files, { durable: true }).subscribe(({ seq }) => console.log(seq))
  state(db.events).subscribe(({ data }) => console.log(data.length))
  keyState(db.history, 'k').subscribe((list) => console.log(list?.length))

  const report = await verifyDb(Core, dir)
  if (!report.ok) console.log(report.problem?.seq, report.problem?.table)
  await db.close()
  const log = await openLog(dir, { readOnly: true })
  console.log(headPosition(log).seq, keys, sets, lists)
  // A log's tables and commits read without the schema (what a home's operator page shows).
  const tables = await readLogState(log)
  for (const table of tables.tables) console.log(table.name, table.kind, table.size, table.entries({ limit: 5 }))
  for await (const commit of log.read()) console.log(decodeCommitOps(commit.payload)[0]?.op)
  await log.close()
  const ui: OperatorUiOptions = { sessionTtlMs: 60_000, log: { info: console.log, warn: console.warn } }
  const server = await startHomeServer({ dataDir: `${dir}-home`, adminToken: 'an-admin-token-16+', ui })
  console.log(`${server.url}/ui`)
  await server.close()
}
