// Move a user between home servers live: the target copies while the source serves, the source freezes for a
// moment, and one compare-and-set in the directory decides. The writer and a replica carry on at the new home from
// the same position. Run with `pnpm --filter @homedb/examples example move-user.ts`.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { moveUser, openReplica, ship, startDirectory, startHomeServer } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { FileTree, ROOT } from './file-tree/schema.js'
import { createAccount, createFile } from './file-tree/service.js'

const root = mkdtempSync(join(tmpdir(), 'homedb-example-'))
const adminToken = randomBytes(24).toString('base64url')
const directory = await startDirectory({ dataDir: join(root, 'directory'), adminToken })
const a = await startHomeServer({ dataDir: join(root, 'a'), adminToken, directory: directory.url })
const b = await startHomeServer({ dataDir: join(root, 'b'), adminToken, directory: directory.url })
const token = await a.addUser('ada') // homed at a, homeEpoch 1

const db = await openDb(FileTree, { dir: join(root, 'app', 'ada') })
const shipper = ship(db, { directory: directory.url, user: 'ada', token })
const replica = await openReplica(FileTree, { directory: directory.url, user: 'ada', token })
createAccount(db, 'ada', 1)
let n = 0
const writing = setInterval(() => {
  createFile(db, { id: `f${n}`, parent: ROOT, name: `file-${n}`, kind: 'document', size: n }, 2 + n++)
}, 1)

const moved = await moveUser({ directory: directory.url, user: 'ada', to: b.url, adminToken })
clearInterval(writing)
console.log(`moved to ${b.url}: homeEpoch ${moved.epoch}, writes paused ${moved.freezeMs.toFixed(1)} ms`)
await shipper.flushed()
await replica.waitFor(db.seq, { timeoutMs: 10_000 })
console.log(
  `${n} files written during the move; replica at seq ${replica.seq}, equal: ${replica.stateHash() === db.stateHash()}`,
)

await replica.close()
await shipper.close()
await db.close()
await Promise.all([a.close(), b.close()])
await directory.close()
