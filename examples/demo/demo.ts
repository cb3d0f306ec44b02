// `pnpm demo`: homedb end to end on one machine with embedded defaults. A directory and two home servers on
// loopback; an app process (app.ts) that holds one database per user of a Lockbook-style file-tree service and
// ships each to its user's home; a replica tailing one user with live RxJS change events; a live move of that user
// under write load; a kill -9 of the app mid-burst and a reopen that recovers every acknowledged write; a compaction.
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { changes } from '@homedb/reactive'
import { moveUser, openReplica, startDirectory, startHomeServer } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { FileTree } from '../file-tree/schema.js'
import type { AppCommand, AppMessage } from './protocol.js'

const started = performance.now()
const root = mkdtempSync(join(tmpdir(), 'homedb-demo-'))
const adminToken = randomBytes(24).toString('base64url')
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
const step = (n: number, text: string) => console.log(`\n[${n}/6] ${text}  (${elapsed()})`)

step(1, 'a directory and two home servers on loopback')
const directory = await startDirectory({ dataDir: join(root, 'directory'), adminToken })
const homeA = await startHomeServer({ dataDir: join(root, 'home-a'), adminToken, directory: directory.url })
const homeB = await startHomeServer({ dataDir: join(root, 'home-b'), adminToken, directory: directory.url })
const tokens: Record<string, string> = {
  alice: await homeA.addUser('alice'),
  bob: await homeB.addUser('bob'),
  carol: await homeA.addUser('carol'),
}
console.log(`  directory ${directory.url}\n  home A    ${homeA.url}  (alice, carol)\n  home B    ${homeB.url}  (bob)`)
const ui = await operatorPage(homeA.url)
console.log(`  operator page ${ui} while the demo runs (admin token ${adminToken})`)

step(2, 'the app serves each user their own database (openUserDbs) and takes a burst of requests')
const appDir = join(root, 'app')
let app = startApp()
const burst = await ask(app, { cmd: 'burst', rounds: 20 }, 'burst')
console.log(`  ${burst.requests} requests (create, batch create, edit, rename, move, share, delete), each acknowledged`)
console.log(`  once durable (fsync): p50 ${burst.p50.toFixed(2)} ms, p99 ${burst.p99.toFixed(2)} ms per request`)
console.log('  for comparison, one Postgres query over a LAN typically costs 0.3-1 ms before any work, and a')
console.log('  request makes several (typical figures, not measured here)')
const refusals = Object.entries(burst.refused).map(([code, n]) => `${n} × ${code}`)
console.log(`  refused by the tree's invariants, nothing written: ${refusals.join(', ')}`)

step(3, 'shipped to their homes; a replica of alice tails home A live')
let flushed = await ask(app, { cmd: 'flush' }, 'flushed')
const replica = await openReplica(FileTree, { directory: directory.url, user: 'alice', token: tokens.alice! })
await replica.waitFor(flushed.users.alice!.seq, { timeoutMs: 20_000 })
console.log(
  `  replica at seq ${replica.seq}; state hash ${replica.stateHash()} = writer's ${flushed.users.alice!.stateHash}`,
)
let shown = 0
let events = 0
const sub = changes(replica.files).subscribe(({ seq, changes: list }) => {
  events++
  for (const c of list) {
    if (shown++ < 6 && c.op === 'set')
      console.log(`  [replica] seq ${seq}: ${c.key} ${c.previous ? 'changed' : 'added'}`)
  }
})

step(4, 'alice moves to home B while the app keeps writing to her')
const acked = new Set<string>()
app.on('message', (m: AppMessage) => m.type === 'acked' && acked.add(m.id))
app.send({ cmd: 'load', user: 'alice', prefix: 'during-move' } satisfies AppCommand)
await waitUntil(() => acked.size >= 50)
const moved = await moveUser({ directory: directory.url, user: 'alice', to: homeB.url, adminToken })
await waitUntil(() => acked.size >= 150)
app.send({ cmd: 'stop-load' } satisfies AppCommand)
flushed = await ask(app, { cmd: 'flush' }, 'flushed')
await replica.waitFor(flushed.users.alice!.seq, { timeoutMs: 20_000 })
console.log(`  moved: writes paused for ${moved.freezeMs.toFixed(1)} ms (the freeze), homeEpoch now ${moved.epoch},`)
console.log(`  ${moved.copiedBytes} bytes copied while alice kept working; ${acked.size} writes acknowledged meanwhile`)
console.log(
  `  the replica followed to home B: seq ${replica.seq}, state hash equal: ${replica.stateHash() === flushed.users.alice!.stateHash}`,
)
console.log(`  (${events} change events reached the replica's subscriber)`)

step(5, 'kill -9 of the app in the middle of a burst, then reopen')
const burstAcked = new Set<string>()
app.on('message', (m: AppMessage) => m.type === 'acked' && m.id.startsWith('crash') && burstAcked.add(m.id))
app.send({ cmd: 'load', user: 'carol', prefix: 'crash' } satisfies AppCommand)
await waitUntil(() => burstAcked.size >= 200)
app.kill('SIGKILL')
await new Promise((resolve) => app.once('exit', resolve))
console.log(`  killed the app after ${burstAcked.size} acknowledged writes (more were in flight)`)
const carol = await openDb(FileTree, { dir: join(appDir, 'carol') })
const missing = [...burstAcked].filter((id) => !carol.files.has(id))
const recovered = [...carol.files.keys()].filter((id) => id.startsWith('crash')).length
console.log(
  `  reopened from the log: ${burstAcked.size - missing.length} of ${burstAcked.size} acknowledged writes present`,
)
console.log(`  (${recovered - burstAcked.size + missing.length} more, still in flight when it died, made it too)`)
const compacted = await carol.compact()
console.log(`  compacted: snapshot of ${compacted.ops} entries at seq ${compacted.seq}, ${compacted.bytes} bytes`)
await carol.close()
if (missing.length > 0) throw new Error(`acknowledged writes lost: ${missing.slice(0, 5).join(', ')}`)

step(6, 'a new app process delivers what the old one had not shipped yet, and everything stops')
app = startApp()
const delivered = await ask(app, { cmd: 'close' }, 'closed')
console.log(`  ${delivered.delivered} users delivered to their homes, ${delivered.undelivered} left on disk`)
sub.unsubscribe()
await replica.close()
await Promise.all([homeA.close(), homeB.close()])
await directory.close()
console.log(`\ndone in ${elapsed()}. The files stay for you to look at:`)
console.log(`  ${appDir}/<user>   each user's database (a homedb log: segments and snapshots)`)
console.log(`  ${join(root, 'home-a')}, ${join(root, 'home-b')}   the home servers' copies`)
console.log(`  inspect one (in this repository; elsewhere \`npx -p @homedb/replication homedb …\`):`)
console.log(`    npx -y pnpm@10.34.8 homedb inspect ${join(appDir, 'carol')}`)
console.log(`  the operator page is at /ui on every home server and on the directory; to look at home A's users again:`)
console.log(`    npx -y pnpm@10.34.8 homedb serve --data ${join(root, 'home-a')} --admin-token ${adminToken}`)

function startApp(): ChildProcess {
  const child = fork(fileURLToPath(new URL('./app.ts', import.meta.url)), [], {
    execArgv: ['--conditions=@homedb/source', '--import', 'tsx'],
    env: {
      ...process.env,
      HOMEDB_DEMO_DIR: appDir,
      HOMEDB_DEMO_DIRECTORY: directory.url,
      HOMEDB_DEMO_TOKENS: JSON.stringify(tokens),
    },
  })
  child.on('message', (m: AppMessage) => {
    if (m.type === 'error') {
      console.error(`app failed: ${m.message}`)
      process.exitCode = 1
    }
  })
  return child
}

/** Sends `command` and resolves with the app's first message of type `type`. */
function ask<T extends AppMessage['type']>(
  child: ChildProcess,
  command: AppCommand,
  type: T,
): Promise<Extract<AppMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: AppMessage) => {
      if (m.type !== type) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(m as Extract<AppMessage, { type: T }>)
    }
    const onExit = (code: number | null) =>
      reject(new Error(`the app exited (${code}) before answering ${command.cmd}`))
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.send(command)
  })
}

async function waitUntil(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** The operator page's URL on a server, checked to answer (its login form). */
async function operatorPage(url: string): Promise<string> {
  const res = await fetch(`${url}/ui`, { redirect: 'manual' })
  await res.body?.cancel()
  if (res.status >= 400) throw new Error(`${url}/ui answered ${res.status}`)
  return `${url}/ui`
}
