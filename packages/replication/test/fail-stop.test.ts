// What a home does with the disk failures and crash leftovers the simulation (tests/sim/) found, on the simulated
// file system: a user log directory left without a log by a crash is "no log yet" (not a 500 forever), and a user
// whose log failed an fdatasync is refused until the home restarts, so it never acknowledges an append it could only
// read back from pages that never reached the disk; and a crash between storing a snapshot in the log and recording
// it in the meta leaves the home naming the log's latest snapshot, not one the log no longer holds.
import { openLog } from '@homedb/log'
import { SimFs, seededRng } from '@homedb/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { HomeService } from '../src/index.js'
import { encodeChunks } from '../src/internal/chunk-stream.js'

const ADMIN = 'fail-stop-admin-token'
const TOKEN = 'alice-token-for-tests'

const open: HomeService[] = []
afterEach(async () => {
  for (const home of open.splice(0)) await home.close().catch(() => undefined)
})

async function start(fs: SimFs): Promise<HomeService> {
  const home = await HomeService.open({ dataDir: '/home', adminToken: ADMIN, fileLayer: fs, processMetrics: false })
  open.push(home)
  return home
}

/** The fields of the answers these tests look at. */
interface Answer {
  readonly status: number
  readonly bytes: Buffer
  readonly json: {
    readonly log?: {
      readonly logId: string
      readonly head: { readonly seq: number }
      readonly snapshot: { readonly seq: number; readonly etag: string } | null
    } | null
    readonly error?: { readonly code: string }
    readonly ok?: boolean
    readonly failedLogs?: number
  }
}

async function call(
  home: HomeService,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<Answer> {
  const answer = await home.handle({
    method,
    path,
    query: {},
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body: body ?? new Uint8Array(),
    signal: new AbortController().signal,
  })
  const parts: Buffer[] = []
  if (answer.body instanceof Uint8Array) parts.push(Buffer.from(answer.body))
  else if (answer.body !== undefined) for await (const chunk of answer.body) parts.push(Buffer.from(chunk))
  const bytes = Buffer.concat(parts)
  const text = bytes.toString('utf8')
  const isJson = (answer.headers?.['content-type'] ?? 'application/json').includes('json')
  return { status: answer.status, bytes, json: text === '' || !isJson ? {} : (JSON.parse(text) as Answer['json']) }
}

/** A snapshot body as the wire carries it. */
async function snapshotBody(text: string): Promise<Buffer> {
  const parts: Uint8Array[] = []
  const payload = async function* () {
    yield Buffer.from(text)
  }
  for await (const part of encodeChunks(payload())) parts.push(part)
  return Buffer.concat(parts)
}

/** A writer's log in memory and a function that appends `n` commits to alice's home (from what it acknowledged). */
async function writer(home: () => HomeService) {
  const log = await openLog(undefined, { durability: 'memory' })
  let acked = { seq: 0, chain: log.start.chain }
  return {
    log,
    get acked() {
      return acked.seq
    },
    async append(n: number, again = false) {
      if (!again) for (let i = 0; i < n; i++) log.append(Buffer.from(`commit ${log.head.seq + 1}`))
      const frames: Uint8Array[] = []
      for await (const c of log.readEncoded({ from: acked.seq })) frames.push(c.frame)
      const headers = { 'homedb-position': `${log.logId}:${acked.seq}:${acked.chain}`, 'homedb-epoch': '1' }
      const answer = await call(home(), 'POST', '/v1/users/alice/append', headers, Buffer.concat(frames))
      if (answer.status === 200) acked = { seq: log.head.seq, chain: log.head.chain }
      return answer
    },
  }
}

describe('a home after disk failures and crashes', () => {
  it('takes a user log directory a crash left without a log for "no log yet", and creates the log there', async () => {
    const fs = new SimFs(seededRng(1), { maxPause: 0 })
    const home = await start(fs)
    await home.addUser('alice', { token: TOKEN })
    // What a home that died while it created alice's first log leaves: the directory and the dead process's lock.
    fs.putFile('/home/users/alice/log-1/LOCK', Buffer.from('{"torn'))
    expect(await call(home, 'GET', '/v1/users/alice/log')).toMatchObject({ status: 200, json: { log: null } })
    const w = await writer(() => home)
    expect((await w.append(2)).status).toBe(200)
    expect((await call(home, 'GET', '/v1/users/alice/log')).json.log?.head.seq).toBe(2)
  })

  // Where O_DSYNC exists the log's batches are durable through the write itself, elsewhere through an fdatasync: a
  // failure of either must stop the user's log the same way.
  it.each([
    { what: 'an fdatasync (no O_DSYNC)', dsync: false, op: 'datasync' as const },
    { what: 'an O_DSYNC write', dsync: true, op: 'write' as const },
  ])(
    'refuses a user whose log failed $what until it restarts, then holds every acknowledged append',
    async ({ dsync, op }) => {
      let fs = new SimFs(seededRng(2), { maxPause: 0, dsync })
      let home = await start(fs)
      await home.addUser('alice', { token: TOKEN })
      const w = await writer(() => home)
      expect((await w.append(3)).status).toBe(200)

      // The next durable write or fdatasync of alice's log fails and the kernel drops its dirty pages (they stay
      // readable in the cache).
      fs.arm({ op, nth: 1, code: 'EIO', loseDirty: true, when: (c) => c.path.includes('/users/alice/') })
      expect((await w.append(2)).status).toBe(500)
      // The writer retries: the frames are readable in the page cache, but never reached the disk.
      const retried = await w.append(0, true)
      expect(retried).toMatchObject({ status: 503, json: { error: { code: 'unavailable' } } })
      expect(await call(home, 'GET', '/healthz')).toMatchObject({ status: 503, json: { ok: false, failedLogs: 1 } })

      await home.close()
      fs = fs.restart(seededRng(3)).fs
      home = await start(fs)
      const info = await call(home, 'GET', '/v1/users/alice/log')
      expect(info.json.log?.head.seq).toBeGreaterThanOrEqual(w.acked)
      expect(w.acked).toBe(3)
      expect((await w.append(0, true)).status).toBe(200)
      expect((await call(home, 'GET', '/healthz')).status).toBe(200)
    },
  )

  it('names the log\u2019s latest snapshot after a crash between storing it and recording it', async () => {
    // Found by the simulation (long seed 100136): the power went out while the home stored a writer's snapshot; the
    // log kept the new one and dropped the old, the meta still named the old, and every replica that needed a
    // snapshot was sent to it and told "gone", forever.
    const fs = new SimFs(seededRng(4), { maxPause: 0 })
    let home = await start(fs)
    await home.addUser('alice', { token: TOKEN })
    const w = await writer(() => home)
    expect((await w.append(3)).status).toBe(200)
    const chain3 = w.log.head.chain
    expect((await w.append(3)).status).toBe(200)
    const stored = await call(
      home,
      'PUT',
      '/v1/users/alice/snapshot',
      { 'homedb-position': `${w.log.logId}:3:${chain3}`, 'homedb-epoch': '1' },
      await snapshotBody('snapshot at 3'),
    )
    expect(stored.status).toBe(200)
    expect((await call(home, 'GET', '/v1/users/alice/log')).json.log?.snapshot?.seq).toBe(3)
    await home.close()

    // What the crash leaves: the log holds the next snapshot (seq 5), the meta record was never written.
    const log = await openLog('/home/users/alice/log-1', { durability: 'fsync', fileLayer: fs, mustExist: true })
    await log.snapshot([Buffer.from('snapshot at 5')], 5)
    await log.close()

    home = await start(fs)
    const info = await call(home, 'GET', '/v1/users/alice/log')
    expect(info.json.log?.snapshot?.seq).toBe(5)
    const snapshot = await call(home, 'GET', `/v1/users/alice/logs/${info.json.log?.logId}/snapshots/5`)
    expect(snapshot.status).toBe(200)
    expect(snapshot.bytes).toEqual(await snapshotBody('snapshot at 5'))
    const again = await call(home, 'GET', `/v1/users/alice/logs/${info.json.log?.logId}/snapshots/5`, {
      'if-none-match': info.json.log?.snapshot?.etag ?? '',
    })
    expect(again.status).toBe(304)
  })
})
