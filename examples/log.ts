// @homedb/log on its own: a checksummed, hash-chained append-only log with group commit. Appends made in one
// event-loop turn share one write and one fdatasync; `sync()` resolves once they are on disk. Run with
// `pnpm --filter @homedb/examples example log.ts`.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog, verifyLog } from '@homedb/log'

const dir = join(mkdtempSync(join(tmpdir(), 'homedb-example-')), 'log')
const log = await openLog(dir) // durability 'fsync' by default
for (let i = 0; i < 1000; i++) log.append(new TextEncoder().encode(`event ${i}`))
await log.sync() // one write and one fdatasync for all 1000 (group commit)
console.log(`head: seq ${log.head.seq}, chain ${log.head.chain}`)
await log.close()

const again = await openLog(dir) // recovery checks every frame of the last segment
let last = ''
for await (const commit of again.read({ from: 997 })) last = new TextDecoder().decode(commit.payload)
console.log(`reopened at seq ${again.head.seq}; last commit: ${last}`)
await again.close()

const report = await verifyLog(dir) // every frame's CRC32C and the whole chain
console.log(`verifyLog: ok=${report.ok}`)
