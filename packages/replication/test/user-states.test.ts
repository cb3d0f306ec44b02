// A user's states on one home, driven through the route table with a directory in memory: a freeze answers writes
// with a retryable `busy` while reads go on; when its lease ends the home settles through the directory (takes the
// user back at homeEpoch + 1, or answers `moved` if the epoch advanced), stays frozen while the directory cannot
// answer; only the move holding the freeze can lift it. And the client's resolver follows redirects but stops on
// circles.
import { openLog } from '@homedb/log'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HomeService, type Transport, type WireResponse } from '../src/index.js'
import { HomeClient } from '../src/internal/home-client.js'
import { HomeResolver } from '../src/internal/home-resolver.js'
import { MemoryDirectory } from './support/memory-directory.js'
import { tempDir } from './support/temp-dir.js'

const next = tempDir()
const ADMIN = 'user-states-admin-token'
const TOKEN = 'alice-token-for-tests'
const SELF = 'http://a.test'

let directory: MemoryDirectory
let home: HomeService

beforeEach(async () => {
  directory = new MemoryDirectory()
  home = await HomeService.open({
    dataDir: next(),
    adminToken: ADMIN,
    directory,
    publicUrl: SELF,
    maxLeaseMs: 100,
    reconcileIntervalMs: 50,
  })
  home.listening(SELF)
  await home.addUser('alice', { token: TOKEN })
})
afterEach(async () => {
  await home.close()
})

async function call(
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; headers: WireResponse['headers']; json: Record<string, unknown> }> {
  const body =
    options.body instanceof Uint8Array
      ? options.body
      : Buffer.from(options.body === undefined ? '' : JSON.stringify(options.body))
  const answer = await home.handle({
    method,
    path,
    query: {},
    headers: { authorization: `Bearer ${options.token ?? TOKEN}`, ...options.headers },
    body,
    signal: new AbortController().signal,
  })
  const chunks: Uint8Array[] = []
  if (answer.body instanceof Uint8Array) chunks.push(answer.body)
  else if (answer.body !== undefined) for await (const c of answer.body) chunks.push(c)
  const text = Buffer.concat(chunks).toString('utf8')
  return { status: answer.status, headers: answer.headers, json: text === '' ? {} : JSON.parse(text) }
}

/** Appends `count` new commits of a writer log to alice's home under `epoch` (from what the home acknowledged). */
async function appender() {
  const log = await openLog(undefined, { durability: 'memory' })
  let acked = { seq: 0, chain: log.start.chain }
  return async (count: number, epoch: number) => {
    for (let i = 0; i < count; i++) log.append(Buffer.from(`c${log.head.seq + 1}`))
    const frames: Uint8Array[] = []
    for await (const c of log.readEncoded({ from: acked.seq })) frames.push(c.frame)
    const answer = await call('POST', '/v1/users/alice/append', {
      headers: { 'homedb-position': `${log.logId}:${acked.seq}:${acked.chain}`, 'homedb-epoch': String(epoch) },
      body: Buffer.concat(frames),
    })
    if (answer.status === 200) acked = { seq: log.head.seq, chain: log.head.chain }
    return answer
  }
}

const freeze = (moveId: string) =>
  call('POST', '/v1/admin/moves/alice/freeze', { token: ADMIN, body: { moveId, leaseMs: 100 } })
const stateOfAlice = () => home.users().find((u) => u.name === 'alice')!

describe('a frozen user', () => {
  it('gets a retryable busy on writes while reads go on, and is taken back at homeEpoch + 1 when the lease ends', async () => {
    const append = await appender()
    expect((await append(3, 1)).status).toBe(200)
    const frozen = await freeze('m1')
    expect(frozen.json).toMatchObject({ head: { seq: 3 }, epoch: 1 })
    const busy = await append(1, 1)
    expect(busy.status).toBe(503)
    expect(busy.json.error).toMatchObject({ code: 'busy', retryAfterMs: expect.any(Number) })
    expect(busy.headers['retry-after']).toBe('1')
    expect(busy.headers['cache-control']).toBe('no-store')
    expect((await call('GET', '/v1/users/alice/log')).status).toBe(200)
    await expect.poll(() => stateOfAlice().state, { timeout: 5_000 }).toBe('active')
    expect(stateOfAlice().epoch).toBe(2)
    expect(await directory.lookup('alice')).toEqual({ user: 'alice', home: SELF, homeEpoch: 2, state: 'active' })
    expect((await append(0, 1)).json.error).toMatchObject({ code: 'stale-epoch', epoch: 2 })
    expect((await append(1, 2)).status).toBe(200)
  })

  it('answers moved once the directory moved it, and never serves it again', async () => {
    const append = await appender()
    await append(2, 1)
    await freeze('m2')
    await directory.compareAndSet('alice', 1, { home: 'http://b.test', homeEpoch: 2, state: 'active' })
    await expect.poll(() => stateOfAlice().state, { timeout: 5_000 }).toBe('moved')
    const read = await call('GET', '/v1/users/alice/log')
    expect(read.status).toBe(409)
    expect(read.headers['cache-control']).toBe('no-store')
    expect(read.json.error).toMatchObject({ code: 'moved', home: 'http://b.test', epoch: 2 })
    expect((await append(1, 1)).json.error).toMatchObject({ code: 'moved' })
    expect((await append(1, 2)).json.error).toMatchObject({ code: 'moved' })
    const intruder = await call('GET', '/v1/users/alice/log', { token: 'not-her-token-at-all' })
    expect(intruder.status).toBe(401)
  })

  it('stays frozen while the directory cannot answer, then settles', async () => {
    const append = await appender()
    await append(1, 1)
    await freeze('m3')
    directory.down = true
    await expect.poll(() => directory.refusals, { timeout: 5_000 }).toBeGreaterThanOrEqual(2)
    expect(stateOfAlice().state).toBe('frozen')
    expect((await append(1, 1)).status).toBe(503)
    directory.down = false
    await expect.poll(() => stateOfAlice().state, { timeout: 5_000 }).toBe('active')
    expect(stateOfAlice().epoch).toBe(2)
  })

  it('is unfrozen only by the move that froze it', async () => {
    await freeze('m4')
    const wrong = await call('POST', '/v1/admin/moves/alice/unfreeze', { token: ADMIN, body: { moveId: 'other' } })
    expect(wrong.json.error).toMatchObject({ code: 'move-conflict', state: 'frozen' })
    const right = await call('POST', '/v1/admin/moves/alice/unfreeze', { token: ADMIN, body: { moveId: 'm4' } })
    expect(right.json).toEqual({ state: 'active', epoch: 1 })
    expect((await freeze('m5')).status).toBe(200)
    expect((await freeze('m6')).json.error).toMatchObject({ code: 'move-conflict' })
  })
})

describe('the client resolver', () => {
  it('follows moved answers, prefers the directory, and stops on redirects in a circle', async () => {
    const resolver = new HomeResolver({ user: 'alice', home: 'http://a.test', loopLimit: 3 })
    await resolver.moved('http://b.test', 2)
    expect(await resolver.current()).toBe('http://b.test')
    let error: unknown
    for (let i = 0; i < 10 && error === undefined; i++) {
      await resolver.moved(i % 2 === 0 ? 'http://a.test' : 'http://b.test', 2).catch((e: unknown) => (error = e))
    }
    expect(error).toMatchObject({ code: 'REPLICATION_LOOP' })

    directory.entries.set('carol', { user: 'carol', home: 'http://c.test', homeEpoch: 5, state: 'active' })
    const withDirectory = new HomeResolver({ user: 'carol', directory })
    expect(await withDirectory.current()).toBe('http://c.test')
    await withDirectory.moved('http://b.test', 3)
    expect(await withDirectory.current()).toBe('http://c.test')
  })

  it('looks the home up again after a 401: a home the user left keeps its old token and never says moved', async () => {
    // Found by the simulation (long seed 100195): a replica asked the home dave had left with the token rotated at
    // his new home, got 401 forever, and never learned where dave lives now.
    directory.entries.set('dave', { user: 'dave', home: 'http://a.test', homeEpoch: 1, state: 'active' })
    const asked: string[] = []
    const transport: Transport = {
      async request(request) {
        const origin = new URL(request.url).origin
        asked.push(`${origin} ${request.headers.authorization}`)
        const refused = origin === 'http://a.test'
        const body = refused ? { error: { code: 'unauthorized', message: 'bad token' } } : { epoch: 2, log: null }
        return {
          status: refused ? 401 : 200,
          headers: { 'content-type': 'application/json' },
          body: (async function* () {
            yield Buffer.from(JSON.stringify(body))
          })(),
        }
      },
    }
    let token = 'dave-token-before'
    const resolver = new HomeResolver({ user: 'dave', directory })
    const client = new HomeClient({ home: resolver, user: 'dave', token: () => token, transport })
    await expect(client.info()).rejects.toMatchObject({ code: 'REPLICATION_AUTH' })
    // Meanwhile dave moved to b, and the operator rotated his token there.
    directory.entries.set('dave', { user: 'dave', home: 'http://b.test', homeEpoch: 2, state: 'active' })
    token = 'dave-token-after'
    expect(await client.info()).toEqual({ epoch: 2, log: null })
    expect(asked).toEqual(['http://a.test Bearer dave-token-before', 'http://b.test Bearer dave-token-after'])
    // Without a directory there is nowhere else to ask: the same home again.
    const fixed = new HomeClient({ home: 'http://a.test', user: 'dave', token: () => token, transport })
    await expect(fixed.info()).rejects.toMatchObject({ code: 'REPLICATION_AUTH' })
    await expect(fixed.info()).rejects.toMatchObject({ code: 'REPLICATION_AUTH' })
    expect(asked.slice(2)).toEqual(['http://a.test Bearer dave-token-after', 'http://a.test Bearer dave-token-after'])
  })
})
