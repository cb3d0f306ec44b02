// @homedb/tables: a typed schema over the log. Tables live in memory (a read is a direct memory access), every
// transaction is one durable log frame, and a reopen replays the log. Run with
// `pnpm --filter @homedb/examples example tables.ts`.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb, TablesError } from '@homedb/tables'
import { FileTree, ROOT } from './file-tree/schema.js'
import { createAccount, createFile, listFolder, move } from './file-tree/service.js'

const dir = join(mkdtempSync(join(tmpdir(), 'homedb-example-')), 'ada')
const db = await openDb(FileTree, { dir })
createAccount(db, 'ada', 1)
// transactionSync returns the function's result; the nested calls join it and return theirs directly.
const id = db.transactionSync(() => {
  const docs = createFile(db, { id: 'docs', parent: ROOT, name: 'docs', kind: 'folder' }, 2)
  return createFile(db, { id: 'plan', parent: docs, name: 'plan.md', kind: 'document', size: 900 }, 3)
})
await db.sync() // durable on disk
console.log(`created ${id}; /docs holds ${listFolder(db, 'docs').map((f) => f.name)}`)

try {
  move(db, 'docs', 'docs', 4) // a folder into itself: refused by the tree's invariant, nothing written
} catch (error) {
  console.log(`refused: ${(error as Error).message}`)
}
try {
  // A request body that lies about its types: the table's zod schema refuses it before anything changes.
  db.files.insert('x', JSON.parse('{"name":"x","kind":"document","parent":"root","size":"big"}'))
} catch (error) {
  if (error instanceof TablesError) console.log(`refused: ${error.code}`)
}
const seq = db.seq
await db.close()

const again = await openDb(FileTree, { dir }) // replays the log
console.log(
  `reopened at seq ${again.seq} (was ${seq}): ${again.files.size} files, plan.md is ${again.files.get('plan')?.size} bytes`,
)
await again.close()
