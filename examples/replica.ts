// Tail a replica: the writer ships its log to the user's home server, and a replica anywhere reads it back live,
// a read-only db of the same schema with the same change events. Run with
// `pnpm --filter @homedb/examples example replica.ts`.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { changes } from '@homedb/reactive'
import { openReplica, ship, startHomeServer } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { FileTree, ROOT } from './file-tree/schema.js'
import { createAccount, createFile } from './file-tree/service.js'

const root = mkdtempSync(join(tmpdir(), 'homedb-example-'))
const home = await startHomeServer({ dataDir: join(root, 'home'), adminToken: randomBytes(24).toString('base64url') })
const token = await home.addUser('ada') // a generated token, shown once

const db = await openDb(FileTree, { dir: join(root, 'app', 'ada') })
const shipper = ship(db, { home: home.url, user: 'ada', token }) // commits never wait on the network
const replica = await openReplica(FileTree, { home: home.url, user: 'ada', token })
changes(replica.files).subscribe(({ seq, changes: list }) => {
  for (const c of list) if (c.op === 'set') console.log(`replica seq ${seq}: ${c.key} (${c.value.name})`)
})

createAccount(db, 'ada', 1)
for (let i = 0; i < 3; i++) createFile(db, { id: `f${i}`, parent: ROOT, name: `note-${i}.md`, kind: 'document' }, 2 + i)
await shipper.flushed() // the home has fsynced every commit made so far
await replica.waitFor(db.seq, { timeoutMs: 10_000 }) // read-your-writes
console.log(`replica at seq ${replica.seq}, same state as the writer: ${replica.stateHash() === db.stateHash()}`)

await replica.close()
await shipper.close()
await db.close()
await home.close()
