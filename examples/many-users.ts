// Serve many users: one app holds one database per user (opened on first use, restored from the user's home when
// the machine has no copy, closed when idle once shipped), each shipped to its user's home. Run with
// `pnpm --filter @homedb/examples example many-users.ts`.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openUserDbs, startDirectory, startHomeServer } from '@homedb/replication'
import { FileTree, ROOT } from './file-tree/schema.js'
import { createAccount, createFile } from './file-tree/service.js'

const root = mkdtempSync(join(tmpdir(), 'homedb-example-'))
const adminToken = randomBytes(24).toString('base64url')
const directory = await startDirectory({ dataDir: join(root, 'directory'), adminToken })
const home = await startHomeServer({ dataDir: join(root, 'home'), adminToken, directory: directory.url })
const tokens = new Map<string, string>()
for (let i = 0; i < 20; i++) tokens.set(`user${i}`, await home.addUser(`user${i}`))

const users = openUserDbs(FileTree, {
  dir: join(root, 'app'),
  directory: directory.url,
  credentials: (user) => tokens.get(user)!,
  maxOpen: 8, // at most 8 dbs open at once: the least recently used are closed once shipped
})
for (const user of tokens.keys()) {
  await users.use(user, (db) => {
    createAccount(db, user, 1)
    createFile(db, { id: 'hello', parent: ROOT, name: 'hello.md', kind: 'document', size: 5 }, 2)
    return db.sync()
  })
}
console.log(`20 users written; ${users.status().open} dbs open now`)
const report = await users.close() // delivers what is unshipped to each home
console.log(
  `close() shipped the last commits of the ${report.delivered.length} open users; undelivered: ${report.undelivered.length}`,
)
console.log(`the home holds ${home.service.users().length} users`)
await home.close()
await directory.close()
