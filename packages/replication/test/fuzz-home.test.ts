// Fuzzing every request decoder of the home (fast-check, seeded): positions in headers and queries, epochs,
// tokens, path parameters, frame bodies, snapshot bodies and JSON bodies, arbitrary and mutated from valid ones,
// sent to every route through HomeService.handle. Each request is answered within a time bound, never with a 500
// (a 500 is a handler that threw), always with a known wire code; a streamed body that never ends is read no
// further than the route's limit. The seed is printed; HOMEDB_FUZZ_SEED replays it.
import { openLog } from '@homedb/log'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HomeService, WIRE_ERROR_CODES, type WireResponse } from '../src/index.js'
import { encodeChunks } from '../src/internal/chunk-stream.js'
import { tempDir } from './support/temp-dir.js'

const pinned = process.env.HOMEDB_FUZZ_SEED
const seed = pinned !== undefined && pinned !== '' ? Number(pinned) : Date.now() % 2 ** 31
const params = (numRuns: number) => ({ numRuns, seed })
const next = tempDir()
const TOKEN = 'alice-token-for-tests'
// A user the fuzzed requests never name (they may rotate alice's token), for the endless-body checks.
const STEADY = { name: 'steady-user-0', token: 'steady-token-for-tests' }
const ADMIN = 'admin-token-for-tests'
const LIMITS = { maxAppendBytes: 64 * 1024, maxSnapshotBytes: 256 * 1024, maxWaitMs: 20, rateLimit: false as const }
const TIME_BOUND_MS = 2_000

let home: HomeService
let head = ''
let frames: Uint8Array[] = []
let snapshotBody: Uint8Array = new Uint8Array()

beforeAll(async () => {
  console.log(`fuzz-home: seed ${seed} (HOMEDB_FUZZ_SEED=${seed} replays it)`)
  home = await HomeService.open({ dataDir: next(), adminToken: ADMIN, pageCommits: 4, ...LIMITS })
  await home.addUser('alice', { token: TOKEN })
  await home.addUser(STEADY.name, { token: STEADY.token })
  const log = await openLog(undefined, { durability: 'memory' })
  for (let i = 1; i <= 12; i++) log.append(new TextEncoder().encode(`commit ${i}`))
  for await (const c of log.readEncoded({ from: 0 })) frames.push(c.frame)
  const first = await answer('POST', '/v1/users/alice/append', {
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'homedb-position': `${log.logId}:0:0000000000000000`,
      'homedb-epoch': '1',
    },
    body: Buffer.concat(frames.slice(0, 8)),
  })
  expect(first.status).toBe(200)
  head = `${log.logId}:8:${(JSON.parse(text(first)) as { head: { chain: string } }).head.chain}`
  frames = frames.slice(8)
  const chunks: Uint8Array[] = []
  for await (const c of encodeChunks(
    (async function* () {
      yield Buffer.from('state')
    })(),
  ))
    chunks.push(c)
  snapshotBody = Buffer.concat(chunks)
})
afterAll(() => home.close())

function text(response: WireResponse): string {
  return response.body instanceof Uint8Array ? Buffer.from(response.body).toString('utf8') : ''
}

async function answer(
  method: string,
  path: string,
  extra: {
    headers?: Record<string, string>
    query?: Record<string, string>
    body?: Uint8Array | AsyncIterable<Uint8Array>
  } = {},
): Promise<WireResponse> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), TIME_BOUND_MS * 2)
  try {
    const response = await home.handle({
      method,
      path,
      query: extra.query ?? {},
      headers: extra.headers ?? {},
      body: extra.body ?? new Uint8Array(),
      signal: controller.signal,
    })
    // Streamed answers (pages, snapshots) are read to their end too.
    if (response.body !== undefined && !(response.body instanceof Uint8Array)) {
      for await (const _ of response.body) {
        // drained
      }
    }
    return response
  } finally {
    clearTimeout(timer)
  }
}

/** Answers within the bound, with a known status and, for errors, a known wire code. */
async function checked(run: () => Promise<WireResponse>): Promise<WireResponse> {
  const started = Date.now()
  const response = await Promise.race([
    run(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer in time')), TIME_BOUND_MS)),
  ])
  expect(Date.now() - started).toBeLessThan(TIME_BOUND_MS)
  expect(response.status).toBeGreaterThanOrEqual(200)
  expect(response.status).toBeLessThan(500)
  if (response.status >= 400) {
    const code = (JSON.parse(text(response)) as { error: { code: string } }).error.code
    expect(WIRE_ERROR_CODES).toContain(code)
  }
  return response
}

/** A valid value, a mutation of it, or anything at all. */
function around(valid: () => string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(null).map(() => valid()),
    fc.tuple(fc.nat(80), fc.string({ maxLength: 3 })).map(([at, s]) => {
      const v = valid()
      return v.slice(0, at % (v.length + 1)) + s + v.slice((at % (v.length + 1)) + s.length)
    }),
    fc.string({ maxLength: 120 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(null).map(() => Buffer.concat(frames.slice(0, 2))),
  fc.tuple(fc.nat(400), fc.nat(255), fc.nat(4)).map(([at, value, n]) => {
    const body = Buffer.from(Buffer.concat(frames.slice(0, n + 1)))
    if (body.byteLength > 0) body[at % body.byteLength] = value
    return body
  }),
  fc.tuple(fc.nat(400)).map(([cut]) => Buffer.concat(frames).subarray(0, cut)),
  fc.constant(null).map(() => snapshotBody),
  fc.tuple(fc.nat(60), fc.nat(255)).map(([at, value]) => {
    const body = Buffer.from(snapshotBody)
    body[at % body.byteLength] = value
    return body
  }),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
  fc.constant(null).map(() => Buffer.from(JSON.stringify({ position: head.split(':') }))),
)

const ROUTES: readonly [string, string][] = [
  ['POST', '/v1/users/:user/append'],
  ['GET', '/v1/users/:user/log'],
  ['GET', '/v1/users/:user/frames'],
  ['GET', '/v1/users/:user/logs/:logId/pages/:page'],
  ['GET', '/v1/users/:user/logs/:logId/snapshots/:seq'],
  ['PUT', '/v1/users/:user/snapshot'],
  ['PUT', '/v1/users/:user/slots/:slot'],
  ['DELETE', '/v1/users/:user/slots/:slot'],
  ['POST', '/v1/admin/users'],
  ['POST', '/v1/admin/users/:user/token'],
  ['GET', '/v1/admin/status'],
]

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  user: fc.oneof(
    { arbitrary: fc.constant('alice'), weight: 8 },
    { arbitrary: fc.constant('bob'), weight: 1 },
    { arbitrary: fc.string({ maxLength: 70 }), weight: 1 },
  ),
  logId: around(() => head.split(':')[0]!),
  page: fc.oneof(fc.nat(6).map(String), fc.string({ maxLength: 20 })),
  seq: fc.oneof(fc.nat(12).map(String), fc.string({ maxLength: 20 })),
  slot: fc.oneof(fc.constant('s1'), fc.string({ maxLength: 80 })),
  token: fc.oneof(
    { arbitrary: fc.constant('right'), weight: 8 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  ),
  position: fc.oneof(
    { arbitrary: fc.constant(null).map(() => head), weight: 3 },
    around(() => head),
  ),
  epoch: fc.oneof(
    { arbitrary: fc.constant('1'), weight: 3 },
    around(() => '1'),
  ),
  replaces: around(() => head),
  wait: fc.oneof(fc.nat(50).map(String), fc.string({ maxLength: 12 })),
  max: fc.oneof(fc.nat(5000).map(String), fc.string({ maxLength: 12 })),
  body: bytes,
  streamed: fc.boolean(),
})

describe('fuzzing the home’s request decoders', () => {
  it('answers arbitrary and mutated requests to every route in time, with a known 2xx-4xx and wire code', async () => {
    const seen = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const path = r.route[1]
          .replace(':user', encodeURIComponent(r.user))
          .replace(':logId', encodeURIComponent(r.logId ?? 'x'))
          .replace(':page', encodeURIComponent(r.page))
          .replace(':seq', encodeURIComponent(r.seq))
          .replace(':slot', encodeURIComponent(r.slot))
        const headers: Record<string, string> = {}
        // 'right': the token the route wants (the admin token for admin routes, alice's otherwise).
        const token = r.token === 'right' ? (path.startsWith('/v1/admin') ? ADMIN : TOKEN) : r.token
        if (token !== undefined) headers.authorization = `Bearer ${token}`
        if (r.position !== undefined) headers['homedb-position'] = r.position
        if (r.epoch !== undefined) headers['homedb-epoch'] = r.epoch
        if (r.replaces !== undefined) headers['homedb-replaces'] = r.replaces
        const query: Record<string, string> = { wait: r.wait, max: r.max, cursor: 'c' }
        if (r.position !== undefined) query.position = r.position
        const body = r.streamed
          ? (async function* () {
              for (let i = 0; i < r.body.byteLength; i += 7) yield r.body.subarray(i, i + 7)
            })()
          : r.body
        const response = await checked(() => answer(r.route[0], path, { headers, query, body }))
        seen.set(response.status, (seen.get(response.status) ?? 0) + 1)
        // A fuzzed rotation may have changed alice's token: give it back, so later runs reach past auth.
        if (r.route[1].endsWith('/token') && response.status === 200) await home.rotateToken('alice', { token: TOKEN })
      }),
      params(1500),
    )
    console.log(`fuzz-home: answers by status ${JSON.stringify(Object.fromEntries([...seen].sort()))}`)
    // The runs reach past auth and parsing into every kind of answer, not only refusals at the door.
    expect(seen.get(200) ?? 0).toBeGreaterThan(0)
    expect(seen.get(409) ?? 0).toBeGreaterThan(0)
  })

  it.each([
    ['a snapshot upload', 'PUT', `/v1/users/${STEADY.name}/snapshot`, LIMITS.maxSnapshotBytes],
    ['a slot confirmation', 'PUT', `/v1/users/${STEADY.name}/slots/s1`, 4096],
    ['an admin request', 'POST', '/v1/admin/users', 8192],
  ])('reads %s that never ends no further than its limit', async (_, method, path, limit) => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 64 * 1024 }), fc.nat(255), async (size, fill) => {
        let pulled = 0
        const endless = (async function* () {
          for (;;) {
            pulled += size
            yield Buffer.alloc(size, fill)
          }
        })()
        const token = path.startsWith('/v1/admin') ? ADMIN : STEADY.token
        const headers = { authorization: `Bearer ${token}`, 'homedb-position': head, 'homedb-epoch': '1' }
        const response = await checked(() => answer(method, path, { headers, body: endless }))
        expect([400, 413]).toContain(response.status)
        expect(pulled).toBeLessThanOrEqual(limit + 2 * size + 8)
      }),
      params(40),
    )
  })
})
