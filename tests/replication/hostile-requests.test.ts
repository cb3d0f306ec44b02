// Hostile input against a real home server on loopback: each request is refused with its stable wire code while
// the victim's stored log stays byte for byte what it was (a digest of its directory before and after), and an
// honest user's writer and replica keep being served the whole time (they converge at the end).

import { join } from 'node:path'
import { openLog } from '@homedb/log'
import { type HomeServer, headPosition, openReplica, ship, startHomeServer, systemClock } from '@homedb/replication'
import { logOf, lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { digestDir, httpText, type RawAnswer, rawRequest } from './support/raw-http.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })
const next = tempDirs('hostile')
const ADMIN = 'admin-token-for-tests'
const TOKENS = { alice: 'alice-token-for-tests', bob: 'bob-token-for-tests!', carol: 'carol-token-for-tests' }
const FRAMES = 'application/vnd.homedb.frames'

let server: HomeServer
let dataDir: string
let head: string
let aliceFrames: Uint8Array[]
let fork: Uint8Array[]
const honest: { stop: () => Promise<void>; sent: number } = { stop: async () => {}, sent: 0 }

/** Bob, the honest user: a writer committing every 20 ms, its shipper and a replica, until `honest.stop()`. */
async function startHonestUser(): Promise<{ check: () => Promise<void> }> {
  const db = await openDb(Core, { dir: next() })
  const shipper = ship(db, { home: server.url, user: 'bob', token: TOKENS.bob })
  const replica = await openReplica(Core, { home: server.url, user: 'bob', token: TOKENS.bob, waitMs: 1000 })
  let running = true
  const loop = (async () => {
    while (running) {
      db.files.insert(`f${honest.sent}`, { size: honest.sent++ })
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  honest.stop = async () => {
    running = false
    await loop
  }
  return {
    async check() {
      await db.sync()
      await shipper.flushed()
      await replica.waitFor(db.seq, { timeoutMs: 20_000 })
      expect(replica.stateHash()).toBe(db.stateHash())
      expect(shipper.status.state).not.toBe('failed')
      await replica.close()
      await shipper.close()
      await db.close()
    },
  }
}

let honestUser: { check: () => Promise<void> }

beforeAll(async () => {
  dataDir = next()
  server = await startHomeServer({
    dataDir,
    adminToken: ADMIN,
    maxAppendBytes: 64 * 1024,
    maxHeaderBytes: 8192,
    maxUrlBytes: 2048,
    headersTimeoutMs: 500,
    requestTimeoutMs: 1500,
    maxTailsPerUser: 2,
    rateLimit: { perSecond: 200, burst: 200 },
  })
  for (const [name, token] of Object.entries(TOKENS)) await server.addUser(name, { token })
  const db = await openDb(Core, { dir: next() })
  for (let i = 0; i < 40; i++) db.files.insert(`a${i}`, { size: i })
  const shipper = ship(db, { home: server.url, user: 'alice', token: TOKENS.alice })
  await db.sync()
  await shipper.flushed()
  await shipper.close()
  const position = headPosition(logOf(db))
  head = `${position.logId}:${position.seq}:${position.chain}`
  aliceFrames = []
  for await (const c of logOf(db).readEncoded({ from: 0 })) aliceFrames.push(c.frame)
  await db.close()
  const other = await openLog(undefined, { durability: 'memory' })
  for (let i = 0; i < 45; i++) other.append(new TextEncoder().encode(`fork ${i}`))
  fork = []
  for await (const c of other.readEncoded({ from: 0 })) fork.push(c.frame)
  honestUser = await startHonestUser()
})

afterAll(async () => {
  await honest.stop()
  await server?.close()
})

const aliceDir = () => join(dataDir, 'users', 'alice')

function append(headers: Record<string, string>, body: Uint8Array, token: string = TOKENS.alice): Buffer {
  return httpText(
    'POST',
    '/v1/users/alice/append',
    { authorization: `Bearer ${token}`, 'content-type': FRAMES, ...headers },
    body,
  )
}

const at = (extra: Record<string, string> = {}) => ({ 'homedb-position': head, 'homedb-epoch': '1', ...extra })
const get = (path: string, token: string = TOKENS.alice) => httpText('GET', path, { authorization: `Bearer ${token}` })

/** Sends `request` and checks the answer and that alice's stored log did not change by a byte. */
async function refused(request: Parameters<typeof rawRequest>[1], status: number, code: string): Promise<RawAnswer> {
  const before = digestDir(aliceDir())
  const answer = await rawRequest(server.url, request)
  expect({ status: answer.status, code: answer.code }).toEqual({ status, code })
  expect(digestDir(aliceDir())).toBe(before)
  return answer
}

describe('hostile requests', () => {
  it.each([
    ['a truncated frame', () => append(at(), fork[40]!.subarray(0, 20)), 400, 'bad-frame'],
    [
      'a frame with a bad CRC',
      () => {
        const bad = Buffer.from(fork[40]!)
        bad[bad.byteLength - 1]! ^= 0x40
        return append(at(), bad)
      },
      400,
      'bad-frame',
    ],
    ['a frame with the wrong seq', () => append(at(), fork[42]!), 400, 'bad-frame'],
    ['a frame with the wrong chain', () => append(at(), fork[40]!), 400, 'bad-frame'],
    [
      'frames the home holds, with another chain',
      () =>
        append(at({ 'homedb-position': `${head.split(':')[0]}:0:0000000000000000` }), Buffer.concat(fork.slice(0, 3))),
      409,
      'diverged',
    ],
    [
      'another log id',
      () => append(at({ 'homedb-position': `${'ab'.repeat(16)}:40:${'0'.repeat(16)}` }), fork[40]!),
      409,
      'incompatible',
    ],
    ['a stale epoch', () => append(at({ 'homedb-epoch': '2' }), fork[40]!), 409, 'stale-epoch'],
    ['an epoch that is not a number', () => append(at({ 'homedb-epoch': '1e3' }), fork[40]!), 400, 'bad-request'],
    [
      'a position past the head',
      () => append(at({ 'homedb-position': `${head.split(':')[0]}:99:${'0'.repeat(16)}` }), new Uint8Array()),
      409,
      'gap',
    ],
    ['a malformed position', () => append(at({ 'homedb-position': '../../etc:1:2' }), fork[40]!), 400, 'bad-request'],
    ['a body over maxAppendBytes', () => append(at(), new Uint8Array(65 * 1024)), 413, 'too-large'],
    ['another user’s valid token', () => append(at(), fork[40]!, TOKENS.carol), 401, 'unauthorized'],
    ['no token', () => httpText('GET', '/v1/users/alice/log', {}), 401, 'unauthorized'],
    [
      'a Basic credential',
      () => httpText('GET', '/v1/users/alice/log', { authorization: 'Basic YTpi' }),
      401,
      'unauthorized',
    ],
    ['a token for a user that does not exist', () => get('/v1/users/mallory/log', TOKENS.alice), 401, 'unauthorized'],
    [
      'adding a user without the admin token',
      () =>
        httpText('POST', '/v1/admin/users', { authorization: `Bearer ${TOKENS.alice}` }, Buffer.from('{"name":"eve"}')),
      401,
      'unauthorized',
    ],
    [
      'rotating a token without the admin token',
      () =>
        httpText('POST', '/v1/admin/users/alice/token', { authorization: `Bearer ${TOKENS.alice}` }, Buffer.from('{}')),
      401,
      'unauthorized',
    ],
    ['reading the status without the admin token', () => get('/v1/admin/status'), 401, 'unauthorized'],
    [
      'a slot body that is not JSON',
      () => httpText('PUT', '/v1/users/alice/slots/s1', { authorization: `Bearer ${TOKENS.alice}` }, Buffer.from('{{')),
      400,
      'bad-request',
    ],
    [
      'a snapshot upload of garbage',
      () =>
        httpText(
          'PUT',
          '/v1/users/alice/snapshot',
          { authorization: `Bearer ${TOKENS.alice}`, 'homedb-position': head, 'homedb-epoch': '1' },
          Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]),
        ),
      400,
      'bad-request',
    ],
    ['a URL over maxUrlBytes', () => get(`/v1/users/alice/log?x=${'a'.repeat(3000)}`), 414, 'url-too-long'],
    [
      'headers over maxHeaderBytes',
      () =>
        httpText('GET', '/v1/users/alice/log', { authorization: `Bearer ${TOKENS.alice}`, 'x-pad': 'p'.repeat(9000) }),
      431,
      'headers-too-large',
    ],
  ])('refuses %s with its code and leaves the stored log as it was', async (_, build, status, code) => {
    await refused({ parts: [build()] }, status, code)
  })

  it.each([
    ['..', '..'],
    ['%2e%2e', '%2e%2e'],
    ['an encoded slash', '..%2Falice'],
    ['a NUL byte', 'alice%00'],
    ['64 characters', 'a'.repeat(64)],
    ['a Cyrillic lookalike', encodeURIComponent('\u0430lice')],
    ['a fullwidth lookalike', encodeURIComponent('\uff41lice')],
    ['upper case', 'ALICE'],
  ])('refuses a user name with %s in the path and in an admin request', async (_, name) => {
    await refused({ parts: [get(`/v1/users/${name}/log`)] }, 400, 'bad-user-name')
    const body = Buffer.from(JSON.stringify({ name: decodeURIComponent(name) }))
    await refused(
      { parts: [httpText('POST', '/v1/admin/users', { authorization: `Bearer ${ADMIN}` }, body)] },
      400,
      'bad-user-name',
    )
    await expect(server.addUser(decodeURIComponent(name))).rejects.toMatchObject({ code: 'REPLICATION_BAD_USER' })
  })

  it('answers a slash inside a user name as a path that does not exist', async () => {
    await refused({ parts: [get('/v1/users/../../meta/log')] }, 404, 'not-found')
  })

  it('cuts a head that trickles in (slowloris) after headersTimeoutMs with 408 timeout', async () => {
    const head_ = 'GET /v1/users/alice/log HTTP/1.1\r\nHost: 127.0.0.1\r\n'
    const trickle = Array.from({ length: 100 }, (_, i) => `x-slow-${i}: 1\r\n`)
    const answer = await refused({ parts: [head_, ...trickle], gapMs: 50 }, 408, 'timeout')
    expect(answer.ms).toBeLessThan(3000)
  })

  it('cuts a body that trickles in after requestTimeoutMs with 408 timeout', async () => {
    const start = append({ ...at(), 'content-length': '1000' }, new Uint8Array())
    const trickle = Array.from({ length: 200 }, () => Buffer.from([0]))
    const answer = await refused({ parts: [start, ...trickle], gapMs: 50 }, 408, 'timeout')
    expect(answer.ms).toBeLessThan(5000)
  })

  it('cuts a body shorter than its Content-Length once requestTimeoutMs passes', async () => {
    const start = append({ ...at(), 'content-length': '1000' }, fork[40]!.subarray(0, 10))
    await refused({ parts: [start] }, 408, 'timeout')
  })

  it('refuses a third concurrent tail of one user with 429 too-many-tails and Retry-After', async () => {
    const poll = () => get(`/v1/users/alice/frames?position=${head}&wait=1500`)
    const waiting = [rawRequest(server.url, { parts: [poll()] }), rawRequest(server.url, { parts: [poll()] })]
    await new Promise((r) => setTimeout(r, 200))
    const third = await refused({ parts: [poll()] }, 429, 'too-many-tails')
    expect(third.headers['retry-after']).toBe('1')
    expect((await Promise.all(waiting)).map((a) => a.status)).toEqual([200, 200])
  })

  it('refuses a token over its request rate with 429 rate-limited and Retry-After, and serves others', async () => {
    // A home of its own whose clock stands still, so the bucket cannot refill while the flood is served (on a loaded
    // machine it did, and fewer requests were refused): exactly the burst passes.
    const stillClock = { now: () => 1_000_000, sleep: systemClock.sleep }
    const limitedHome = await startHomeServer({
      dataDir: next(),
      adminToken: ADMIN,
      rateLimit: { perSecond: 200, burst: 200 },
      clock: stillClock,
    })
    try {
      await limitedHome.addUser('alice', { token: TOKENS.alice })
      const flood = await Promise.all(
        Array.from({ length: 300 }, () =>
          rawRequest(limitedHome.url, { parts: [get('/v1/users/alice/log', 'x'.repeat(20))] }),
        ),
      )
      const limited = flood.filter((a) => a.status === 429)
      expect(limited).toHaveLength(100)
      expect(limited.every((a) => a.code === 'rate-limited' && Number(a.headers['retry-after']) >= 1)).toBe(true)
      expect(flood.filter((a) => a.status !== 429).every((a) => a.code === 'unauthorized')).toBe(true)
      expect((await rawRequest(limitedHome.url, { parts: [get('/v1/users/alice/log')] })).status).not.toBe(429)
    } finally {
      await limitedHome.close()
    }
  })

  it('refuses a rotated token from the moment the rotation resolves, and takes the new one', async () => {
    const fresh = await server.rotateToken('carol')
    await refused({ parts: [get('/v1/users/carol/log', TOKENS.carol)] }, 401, 'unauthorized')
    expect((await rawRequest(server.url, { parts: [get('/v1/users/carol/log', fresh)] })).status).toBe(200)
  })

  it('kept serving the honest user throughout: its replica holds exactly what its writer wrote', async () => {
    await honest.stop()
    expect(honest.sent).toBeGreaterThan(20)
    await honestUser.check()
  })
})
