// The demo's app process: a Lockbook-style file-tree server holding one homedb database per user in its own
// process (openUserDbs), each shipped to the user's home server. The demo drives it over IPC: a burst of realistic
// requests (latency measured per request, acknowledged once durable), a steady write load during a move, and a
// last burst during which the demo kills this process with SIGKILL. Run by demo.ts, not by hand.
import { openUserDbs, type UserDbs } from '@homedb/replication'
import { FileTree } from '../file-tree/schema.js'
import { createAccount, createFile, edit, move, rename, share, TreeError, trash } from '../file-tree/service.js'
import { percentile } from './percentile.js'
import type { AppCommand, AppMessage } from './protocol.js'

const { HOMEDB_DEMO_DIR: dir, HOMEDB_DEMO_DIRECTORY: directory, HOMEDB_DEMO_TOKENS: tokensJson } = process.env
if (!dir || !directory || !tokensJson || !process.send) {
  throw new Error('app.ts is started by demo.ts (it needs the demo dir, directory, tokens and an IPC channel)')
}
const tokens = JSON.parse(tokensJson) as Record<string, string>
const send = (message: AppMessage) => process.send!(message)

const users: UserDbs<typeof FileTree.tables> = openUserDbs(FileTree, {
  dir,
  directory,
  credentials: (user) => tokens[user]!,
})

let clock = Date.now()
/** Request times are real; file timestamps just need to grow. */
const now = () => ++clock

/** One request: runs `op` on the user's db and answers once the commit is durable (what a server acknowledges). */
async function request(user: string, op: Parameters<typeof users.use>[1]): Promise<number> {
  const started = performance.now()
  await users.use(user, async (db) => {
    op(db)
    await db.sync()
  })
  return performance.now() - started
}

/** A realistic mix for one user: folders, documents, edits, renames, moves, shares, and refused operations. */
async function work(user: string, round: number, times: number[], refused: Record<string, number>): Promise<void> {
  const p = `${user}-${round}`
  const ops: ((db: Parameters<Parameters<typeof users.use>[1]>[0]) => void)[] = [
    (db) => createFile(db, { id: `${p}-docs`, parent: 'root', name: `docs-${round}`, kind: 'folder' }, now()),
    (db) =>
      db.transactionSync(() => {
        // A batch: a folder and a document in it, in one transaction (the inner calls return their ids).
        const photos = createFile(db, { id: `${p}-photos`, parent: `${p}-docs`, name: 'photos', kind: 'folder' }, now())
        createFile(db, { id: `${p}-cat`, parent: photos, name: 'cat.jpg', kind: 'document', size: 48_000 }, now())
      }),
    (db) =>
      createFile(db, { id: `${p}-plan`, parent: `${p}-docs`, name: 'plan.md', kind: 'document', size: 900 }, now()),
    (db) => edit(db, `${p}-plan`, 1_200, now()),
    (db) => rename(db, `${p}-plan`, 'plan-v2.md', now()),
    (db) => move(db, `${p}-cat`, `${p}-docs`, now()),
    (db) => share(db, `${p}-plan`, 'bob', 'read', now()),
    (db) => createFile(db, { id: `${p}-dup`, parent: `${p}-docs`, name: 'plan-v2.md', kind: 'document' }, now()),
    (db) => move(db, `${p}-docs`, `${p}-photos`, now()),
    (db) => trash(db, `${p}-photos`, now()),
  ]
  for (const op of ops) {
    try {
      times.push(await request(user, op))
    } catch (error) {
      if (!(error instanceof TreeError)) throw error
      refused[error.code] = (refused[error.code] ?? 0) + 1
    }
  }
}

async function burst(rounds: number): Promise<void> {
  const times: number[] = []
  const refused: Record<string, number> = {}
  const names = Object.keys(tokens)
  for (const user of names) await users.use(user, (db) => db.account.get() ?? createAccount(db, user, now()))
  for (let round = 0; round < rounds; round++) {
    await Promise.all(names.map((user) => work(user, round, times, refused)))
  }
  send({ type: 'burst', requests: times.length, p50: percentile(times, 50), p99: percentile(times, 99), refused })
}

/** Writes documents to `user` until told to stop; reports each acknowledged one. */
async function load(user: string, prefix: string, signal: AbortSignal): Promise<void> {
  for (let n = 0; !signal.aborted; n++) {
    const id = `${prefix}-${n}`
    await request(user, (db) => createFile(db, { id, parent: 'root', name: id, kind: 'document', size: n }, now()))
    send({ type: 'acked', user, id })
  }
}

async function flushed(): Promise<void> {
  const seqs: Record<string, { seq: number; stateHash: string }> = {}
  for (const user of Object.keys(tokens)) {
    seqs[user] = await users.use(user, async (db) => {
      await db.sync()
      return { seq: db.seq, stateHash: db.stateHash() }
    })
  }
  // The pool ships in the background: wait until every user's home has acknowledged every commit.
  for (;;) {
    const open = users.status().users
    if (open.every((u) => u.lagCommits === 0) && users.status().pending.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  send({ type: 'flushed', users: seqs })
}

let loading: AbortController | undefined
process.on('message', (command: AppCommand) => {
  const run = async () => {
    if (command.cmd === 'burst') await burst(command.rounds)
    else if (command.cmd === 'load') {
      loading = new AbortController()
      void load(command.user, command.prefix, loading.signal).catch((error) =>
        send({ type: 'error', message: String(error) }),
      )
      return
    } else if (command.cmd === 'stop-load') loading?.abort()
    else if (command.cmd === 'flush') await flushed()
    else if (command.cmd === 'close') {
      const report = await users.close()
      send({ type: 'closed', delivered: report.delivered.length, undelivered: report.undelivered.length })
      process.disconnect()
    }
  }
  run().catch((error: unknown) => send({ type: 'error', message: (error as Error)?.stack ?? String(error) }))
})
send({ type: 'ready' })
