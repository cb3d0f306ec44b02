// kill -9 during a move (homes and the mover as child processes, a writer committing all along): of the target
// mid-copy, of the source mid-freeze, of the mover right after the directory switch. Each move aborts or completes,
// never half and never with two homes; the writer loses nothing; the audit of accepted appends shows one home per
// homeEpoch.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type DirectoryServer, MoveError, moveUser, type Shipper, ship, startDirectory } from '@homedb/replication'
import { type Db, logOf, lookupTable, openDb, schema } from '@homedb/tables'
import { afterEach, describe, expect, it } from 'vitest'
import { addUserOverHttp } from './support/admin-http.js'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, startScriptProcess } from './support/home-process.js'

const next = tempDirs('homing-crash')
const HOME = fileURLToPath(new URL('./support/homing-home.ts', import.meta.url))
const MOVER = fileURLToPath(new URL('./support/mover-child.ts', import.meta.url))
const ADMIN = 'homing-crash-admin-token'
const TOKEN = 'alice-token-for-tests'
const LEASE_MS = 2_000
const Core = schema({ blobs: lookupTable<string, { data: string }>() })
type CoreDb = Db<(typeof Core)['tables']>

let directory: DirectoryServer | undefined
const children: HomeProcess[] = []
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill9()))
  await directory?.close()
  directory = undefined
})

interface Home {
  dataDir: string
  process: HomeProcess
  url: string
}

async function startHome(audit: string, dataDir = next(), port = 0): Promise<Home> {
  const args = [dataDir, String(port), ADMIN, directory!.url, audit, String(LEASE_MS)]
  const child = await startScriptProcess(HOME, args)
  children.push(child)
  return { dataDir, process: child, url: child.url }
}

async function restart(home: Home, audit: string): Promise<void> {
  const again = await startHome(audit, home.dataDir, home.process.port)
  home.process = again.process
}

async function setUp(commits = 2_000, autoCompact = true) {
  directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
  const audit = `${next()}.jsonl`
  const a = await startHome(audit)
  const b = await startHome(audit)
  await addUserOverHttp(a.url, ADMIN, 'alice', TOKEN)
  const db = await openDb(Core, { dir: next(), ...(autoCompact ? {} : { autoCompact: false }) })
  const shipper = ship(db, { directory: directory.url, user: 'alice', token: TOKEN, retry: { baseMs: 10, maxMs: 200 } })
  // A few MB (tens for the test that kills the target mid-copy, whose writer does not compact: a snapshot of its
  // 500 rows would make the copy a MB, done between two progress reports), so the copy takes a moment.
  const blob = 'x'.repeat(2048)
  for (let i = 0; i < commits; i++) db.blobs.insert(`b${i % 500}`, { data: `${i}${blob}` })
  await shipper.flushed()
  return { audit, a, b, db, shipper, writer: keepWriting(db) }
}

/** Commits every few ms until stopped; commits never wait on the network, whatever the homes do. */
function keepWriting(db: CoreDb): { stop(): Promise<void> } {
  let on = true
  const loop = (async () => {
    for (let i = 0; on; i++) {
      db.blobs.insert(`w${i % 100}`, { data: String(i) })
      await new Promise((r) => setTimeout(r, 3))
    }
  })()
  return {
    async stop() {
      on = false
      await loop
    },
  }
}

async function infoAt(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${TOKEN}` } })
  return { status: r.status, body: (await r.json()) as Record<string, unknown> }
}

/** After the dust settles: the directory's home holds every commit, the other one does not serve alice. */
async function checkOneHome(db: CoreDb, shipper: Shipper, homes: Home[], audit: string): Promise<string> {
  await shipper.flushed()
  const entry = (await directory!.local.lookup('alice'))!
  const current = homes.find((h) => h.url === entry.home)!
  const other = homes.find((h) => h !== current)!
  const info = await infoAt(current.url)
  expect(info.status).toBe(200)
  expect((info.body.log as { head: unknown }).head).toEqual({
    logId: logOf(db).logId,
    seq: db.seq,
    chain: logOf(db).head.chain,
  })
  const elsewhere = await infoAt(other.url)
  expect(elsewhere.status).not.toBe(200)
  const lines = readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { epoch: number; home: string })
  const byEpoch = new Map<number, Set<string>>()
  for (const l of lines) byEpoch.set(l.epoch, (byEpoch.get(l.epoch) ?? new Set()).add(l.home))
  for (const [epoch, homesOfEpoch] of byEpoch) expect([epoch, homesOfEpoch.size]).toEqual([epoch, 1])
  return entry.home
}

/** Runs the mover child until it reaches `phase` (where it blocks for `blockMs`). */
async function moverAt(phase: string, to: string, blockMs = 120_000) {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@homedb/source',
      '--import',
      'tsx',
      MOVER,
      directory!.url,
      'alice',
      to,
      ADMIN,
      phase,
      String(blockMs),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes(`reached ${phase}`)) resolve()
    })
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    void exited.then(() => reject(new Error(`the mover exited early:\n${out}`)))
  })
  return { child, exited, output: () => out }
}

describe('kill -9 during a move', () => {
  it('of the target mid-copy: the move aborts, nothing changes, and a later move succeeds', async () => {
    const { audit, a, b, db, shipper, writer } = await setUp(10_000, false)
    let killedAt: { copied: number; at: number; of: number } | undefined
    const moving = moveUser({
      directory: directory!.url,
      user: 'alice',
      to: b.url,
      adminToken: ADMIN,
      onProgress(p) {
        const partial = p.copiedBytes > 0 && p.head != null && p.sourceHead != null && p.head.seq < p.sourceHead.seq
        if (p.phase === 'copying' && partial && killedAt === undefined) {
          b.process.child.kill('SIGKILL')
          killedAt = { copied: p.copiedBytes, at: p.head!.seq, of: p.sourceHead!.seq }
        }
      },
    })
    const failure = await moving.then(
      () => undefined,
      (e: unknown) => e,
    )
    console.log(`target killed mid-copy: ${JSON.stringify(killedAt)}`)
    expect(killedAt).toBeDefined()
    expect(failure).toBeInstanceOf(MoveError)
    expect((failure as MoveError).context).toMatchObject({ outcome: 'aborted' })
    expect(await directory!.local.lookup('alice')).toEqual({
      user: 'alice',
      home: a.url,
      homeEpoch: 1,
      state: 'active',
    })
    await restart(b, audit)
    // The restarted target never serves its stale reservation: it sends alice's clients to her home.
    const atB = await infoAt(b.url)
    expect(atB.status).toBe(409)
    expect(atB.body.error).toMatchObject({ code: 'moved', home: a.url })
    await moveUser({ directory: directory!.url, user: 'alice', to: b.url, adminToken: ADMIN })
    await writer.stop()
    expect(await checkOneHome(db, shipper, [a, b], audit)).toBe(b.url)
    await shipper.close()
    await db.close()
  })

  it('of the source mid-freeze: the move completes or aborts, and the restarted source agrees with the directory', async () => {
    const { audit, a, b, db, shipper, writer } = await setUp()
    let killed = false
    const outcome = await moveUser({
      directory: directory!.url,
      user: 'alice',
      to: b.url,
      adminToken: ADMIN,
      leaseMs: LEASE_MS,
      onProgress(p) {
        if (p.phase === 'catching-up' && !killed) {
          killed = true
          a.process.child.kill('SIGKILL')
        }
      },
    }).then(
      () => 'completed',
      (e: unknown) => (e as MoveError).context.outcome as string,
    )
    expect(['completed', 'aborted']).toContain(outcome)
    console.log(`the move with its source killed mid-freeze: ${outcome}`)
    await restart(a, audit)
    const entry = (await directory!.local.lookup('alice'))!
    expect(entry.home).toBe(outcome === 'completed' ? b.url : a.url)
    await writer.stop()
    expect(await checkOneHome(db, shipper, [a, b], audit)).toBe(entry.home)
    await shipper.close()
    await db.close()
  })

  it('of the mover right after the switch: the target activates and the source answers moved on their own', async () => {
    const { audit, a, b, db, shipper, writer } = await setUp()
    const mover = await moverAt('activating', b.url)
    mover.child.kill('SIGKILL')
    await mover.exited
    expect(await directory!.local.lookup('alice')).toEqual({
      user: 'alice',
      home: b.url,
      homeEpoch: 2,
      state: 'active',
    })
    await expect.poll(async () => (await infoAt(b.url)).status, { timeout: 20_000 }).toBe(200)
    await expect
      .poll(async () => ((await infoAt(a.url)).body.error as { code?: string } | undefined)?.code, { timeout: 20_000 })
      .toBe('moved')
    await writer.stop()
    expect(await checkOneHome(db, shipper, [a, b], audit)).toBe(b.url)
    await shipper.close()
    await db.close()
  })

  it('of the target right before the switch: the restarted target finds the switch and activates on its own', async () => {
    const { audit, a, b, db, shipper, writer } = await setUp()
    // The mover has verified the copy and waits a moment before its compare-and-set: the target dies now.
    const mover = await moverAt('switching', b.url, 1_500)
    await b.process.kill9()
    expect(await mover.exited).toBe(0)
    expect(mover.output()).toContain('moved {')
    expect((await directory!.local.lookup('alice'))?.home).toBe(b.url)
    await restart(b, audit)
    // No client asks it anything: the restarted target reconciles with the directory by itself.
    const status = async () => {
      const r = await fetch(`${b.url}/v1/admin/moves/alice`, { headers: { authorization: `Bearer ${ADMIN}` } })
      return ((await r.json()) as { state: string }).state
    }
    await expect.poll(status, { timeout: 20_000 }).toBe('active')
    await writer.stop()
    expect(await checkOneHome(db, shipper, [a, b], audit)).toBe(b.url)
    await shipper.close()
    await db.close()
  })
})
