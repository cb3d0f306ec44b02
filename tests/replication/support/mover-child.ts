// moveUser in a child process, for the test that kills the mover with kill -9 right after the directory switch:
// when the move reaches STOP_AT (a MoveProgress phase) it prints `reached STOP_AT` and blocks its thread for
// BLOCK_MS (default 120 s), so the parent's kill -9 lands exactly there (`activating` follows the successful switch,
// before the target is told), or the parent acts while the mover waits (`switching` is right before the switch).
// Usage: mover-child.ts DIRECTORY USER TO ADMIN_TOKEN STOP_AT [BLOCK_MS]
import { writeSync } from 'node:fs'
import { moveUser } from '@homedb/replication'

const [directory, user, to, adminToken, stopAt, blockMs] = process.argv.slice(2)
const result = await moveUser({
  directory: directory!,
  user: user!,
  to: to!,
  adminToken: adminToken!,
  onProgress(progress) {
    if (progress.phase !== stopAt) return
    writeSync(1, `reached ${stopAt}\n`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(blockMs ?? 120_000))
  },
})
console.log(`moved ${JSON.stringify(result)}`)
