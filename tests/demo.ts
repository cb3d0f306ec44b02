// The README's demo: the smallest end-to-end use of homedb. A typed schema, durable transactions, a live change
// stream, a reopen that replays the log, and a read-only audit of the files. Run with `pnpm demo`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog, verifyLog } from '@homedb/log'
import { changes } from '@homedb/reactive'
import { headPosition } from '@homedb/replication'
import { list, lookupSet, lookupTable, openDb, schema, single } from '@homedb/tables'

interface Account {
  user: string
  plan: 'free' | 'pro'
}
interface FileMeta {
  name: string
  size: number
  modified: number
}

const Core = schema({
  account: single<Account>(),
  files: lookupTable<string, FileMeta>(),
  children: lookupSet<string, string>(),
  events: list<{ at: number; what: string }>(),
})

const dir = mkdtempSync(join(tmpdir(), 'homedb-demo-'))
console.log(`homedb demo: a database in ${dir}\n`)

const db = await openDb(Core, { dir })
const sub = changes(db.files).subscribe(({ seq, changes }) => {
  for (const c of changes) {
    if (c.op === 'set')
      console.log(`  [stream] seq ${seq}: ${c.previous ? 'updated' : 'added'} ${c.key} (${c.value.name})`)
    if (c.op === 'remove') console.log(`  [stream] seq ${seq}: removed ${c.key}`)
  }
})

db.account.insert({ user: 'ada', plan: 'free' })
const started = performance.now()
await db.transaction(() => {
  db.files.insert('f1', { name: 'notes.txt', size: 120, modified: 1 })
  db.files.insert('f2', { name: 'todo.md', size: 64, modified: 1 })
  db.children.insert('root', 'f1')
  db.children.insert('root', 'f2')
  db.events.push({ at: 1, what: 'created two files' })
})
console.log(`\ncommitted a transaction durably (fsync) in ${(performance.now() - started).toFixed(2)} ms`)

const writes = 1000
const t0 = performance.now()
await Promise.all(
  Array.from({ length: writes }, (_, i) => db.transaction(() => db.events.push({ at: i, what: `event ${i}` }))),
)
const ms = performance.now() - t0
console.log(`${writes} concurrent durable transactions in ${ms.toFixed(1)} ms (group commit shares the fsyncs)`)

const t1 = performance.now()
let found = 0
for (let i = 0; i < 100_000; i++) if (db.files.get(i % 2 ? 'f1' : 'f2')) found++
console.log(`100 000 reads in ${(performance.now() - t1).toFixed(1)} ms: each returns the stored object itself`)
const first = db.files.get('f1')
const second = db.files.get('f1')
console.log(`two reads of f1 return the same object: ${first === second} (${found} found)`)

sub.unsubscribe()
await db.close()

const again = await openDb(Core, { dir })
console.log(
  `\nreopened: replayed to seq ${again.seq}; ${again.files.size} files, ${again.events.length} events, plan ${again.account.get()?.plan}`,
)
console.log(`children of root: ${[...(again.children.get('root') ?? [])].join(', ')}`)
await again.close()

const report = await verifyLog(dir)
console.log(`verifyLog: ok=${report.ok}, ${report.segments.length} segment(s), head seq ${report.head.seq}`)
const log = await openLog(dir, { readOnly: true })
console.log(`position a replica would resume from: ${JSON.stringify(headPosition(log))}`)
await log.close()
rmSync(dir, { recursive: true, force: true })
