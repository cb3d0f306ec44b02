// @homedb/reactive: RxJS streams over tables. `changes` emits the deltas of each commit, `keyState` one key's value,
// and `{ durable: true }` waits until the commit is on disk (what to tell other machines). Run with
// `pnpm --filter @homedb/examples example reactive.ts`.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { changes, keyState } from '@homedb/reactive'
import { openDb } from '@homedb/tables'
import { FileTree, ROOT } from './file-tree/schema.js'
import { createAccount, createFile, rename } from './file-tree/service.js'

const db = await openDb(FileTree, { dir: join(mkdtempSync(join(tmpdir(), 'homedb-example-')), 'ada') })
createAccount(db, 'ada', 1)

changes(db.files).subscribe(({ seq, changes: list }) => {
  for (const c of list) if (c.op === 'set') console.log(`in memory  seq ${seq}: ${c.key} = ${c.value.name}`)
})
changes(db.files, { durable: true }).subscribe(({ seq }) => console.log(`on disk    seq ${seq}`))
keyState(db.files, 'plan').subscribe((file) => console.log(`plan is now ${file?.name ?? '(absent)'}`))

createFile(db, { id: 'plan', parent: ROOT, name: 'plan.md', kind: 'document', size: 1 }, 2)
rename(db, 'plan', 'plan-v2.md', 3)
await db.sync()
await db.close() // every stream completes
