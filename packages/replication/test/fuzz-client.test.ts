// Fuzzing every response decoder of the clients (fast-check, seeded): what a broken or hostile home (or anything
// between) may send — any status, headers with mutated positions, cursors and Retry-After, JSON bodies mutated from
// valid ones, damaged frames and snapshot bodies, bodies that never end — to every HomeClient call, then to the
// frame and snapshot decoders. Each call settles in time, with a value or a ReplicationError (never a TypeError or
// a hang), and reads a body that never ends no further than its bound. HOMEDB_FUZZ_SEED replays a seed.
import { openLog } from '@homedb/log'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { ReplicationError, type Transport, type TransportResponse } from '../src/index.js'
import { decodeChunks, encodeChunks } from '../src/internal/chunk-stream.js'
import { splitFrames, verifyFrames } from '../src/internal/frames.js'
import { HomeClient } from '../src/internal/home-client.js'

const pinned = process.env.HOMEDB_FUZZ_SEED
const seed = pinned !== undefined && pinned !== '' ? Number(pinned) : Date.now() % 2 ** 31
const params = (numRuns: number) => ({ numRuns, seed })
const TIME_BOUND_MS = 2_000
const MAX_BODY = 256 * 1024

let logId = ''
let head = { logId: '', seq: 0, chain: '' }
const frames: Uint8Array[] = []
let snapshotBody = Buffer.alloc(0)
let start = { seq: 0, chain: '' }

beforeAll(async () => {
  console.log(`fuzz-client: seed ${seed} (HOMEDB_FUZZ_SEED=${seed} replays it)`)
  const log = await openLog(undefined, { durability: 'memory' })
  for (let i = 1; i <= 6; i++) log.append(new TextEncoder().encode(`commit ${i}`))
  for await (const c of log.readEncoded({ from: 0 })) frames.push(c.frame)
  logId = log.logId
  head = { logId, seq: log.head.seq, chain: log.head.chain }
  start = { seq: log.start.seq, chain: log.start.chain }
  const parts: Uint8Array[] = []
  for await (const c of encodeChunks(
    (async function* () {
      yield Buffer.from('snapshot state')
    })(),
  ))
    parts.push(c)
  snapshotBody = Buffer.concat(parts)
})

const validJson = () => [
  { epoch: 1, log: null },
  {
    epoch: 1,
    log: {
      logId,
      head,
      start: { ...head, seq: 0, chain: '0'.repeat(16) },
      snapshot: null,
      pageCommits: 4,
      sealedPages: 1,
    },
  },
  { head },
  { error: { code: 'conflict', message: 'x', head, start: head } },
  { error: { code: 'rate-limited', message: 'x', retryAfterMs: 5 } },
]

/** JSON: a valid answer, with one field replaced by anything. */
const json = fc
  .tuple(fc.nat(4), fc.oneof(fc.constant(undefined), fc.string(), fc.jsonValue()), fc.nat(10))
  .map(([i, replacement, at]) => {
    const value = structuredClone(validJson()[i]!) as Record<string, unknown>
    const keys = Object.keys(value)
    if (replacement !== undefined && keys.length > 0) value[keys[at % keys.length]!] = replacement
    return Buffer.from(JSON.stringify(value))
  })

const body = fc.oneof(
  json,
  fc.uint8Array({ maxLength: 400 }),
  fc.constant(null).map(() => Buffer.concat(frames)),
  fc.tuple(fc.nat(1000), fc.nat(255)).map(([at, v]) => {
    const b = Buffer.from(Buffer.concat(frames))
    b[at % b.byteLength] = v
    return b
  }),
  fc.nat(400).map((cut) => Buffer.concat(frames).subarray(0, cut)),
  fc.constant(null).map(() => snapshotBody),
  fc.tuple(fc.nat(60), fc.nat(255)).map(([at, v]) => {
    const b = Buffer.from(snapshotBody)
    b[at % b.byteLength] = v
    return b
  }),
)

const response = fc.record({
  status: fc.oneof(
    fc.constantFrom(200, 200, 200, 304, 400, 401, 404, 409, 413, 429, 500, 503),
    fc.integer({ min: 0, max: 999 }),
  ),
  headPosition: fc.oneof(
    fc.constant(null).map(() => `${head.logId}:${head.seq}:${head.chain}`),
    fc.string({ maxLength: 80 }),
    fc.constant(undefined),
  ),
  retryAfter: fc.oneof(fc.constant(undefined), fc.nat(10).map(String), fc.string({ maxLength: 30 })),
  cursor: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 2000 })),
  body,
  endless: fc.boolean(),
  chunk: fc.integer({ min: 1, max: 8192 }),
})

type Fuzzed = typeof response extends fc.Arbitrary<infer T> ? T : never

function transport(r: Fuzzed, pulled: { bytes: number }): Transport {
  return {
    async request(): Promise<TransportResponse> {
      const headers: Record<string, string> = {}
      if (r.headPosition !== undefined) headers['homedb-head'] = r.headPosition
      if (r.retryAfter !== undefined) headers['retry-after'] = r.retryAfter
      if (r.cursor !== undefined) headers['homedb-cursor'] = r.cursor
      const stream = (async function* () {
        for (let i = 0; i < r.body.byteLength; i += r.chunk) {
          pulled.bytes += Math.min(r.chunk, r.body.byteLength - i)
          yield r.body.subarray(i, i + r.chunk)
        }
        while (r.endless) {
          pulled.bytes += r.chunk
          yield Buffer.alloc(r.chunk, 7)
        }
      })()
      return { status: r.status, headers, body: stream }
    },
  }
}

const CALLS: readonly [string, (c: HomeClient) => Promise<unknown>][] = [
  ['info', (c) => c.info()],
  ['append', (c) => c.append(head, 1, Buffer.concat(frames))],
  ['frames', (c) => c.frames(head, 0, 'c')],
  ['page', (c) => c.page(logId, 0)],
  [
    'snapshot',
    async (c) => {
      const answer = await c.snapshot(logId, 6)
      if (!answer.ok) return answer
      for await (const _ of decodeChunks(answer.body, MAX_BODY)) {
        // decoded
      }
      return answer
    },
  ],
  [
    'putSnapshot',
    (c) =>
      c.putSnapshot(
        head,
        1,
        null,
        (async function* () {
          yield Buffer.from('s')
        })(),
      ),
  ],
  ['confirmSlot', (c) => c.confirmSlot('s1', head)],
]

/** Settles in time with a value, or with a ReplicationError. */
async function settles(run: () => Promise<unknown>): Promise<void> {
  const outcome = await Promise.race([
    run().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<{ hang: true }>((resolve) => setTimeout(() => resolve({ hang: true }), TIME_BOUND_MS)),
  ])
  expect(outcome).not.toHaveProperty('hang')
  if ('error' in outcome && !(outcome.error instanceof ReplicationError)) throw outcome.error
}

describe('fuzzing the clients’ response decoders', () => {
  it.each(CALLS)(
    '%s settles with a value or a ReplicationError on any answer, reading within its bound',
    async (_, call) => {
      await fc.assert(
        fc.asyncProperty(response, async (r) => {
          const pulled = { bytes: 0 }
          const client = new HomeClient({
            home: 'http://home.invalid',
            user: 'alice',
            token: 'alice-token-for-tests',
            transport: transport(r, pulled),
            maxBodyBytes: MAX_BODY,
          })
          await settles(() => call(client))
          // JSON and error bodies are read up to 1 MiB, frames and snapshots up to MAX_BODY; plus one chunk.
          expect(pulled.bytes).toBeLessThanOrEqual(1024 * 1024 + MAX_BODY + 2 * r.chunk)
        }),
        params(150),
      )
    },
  )

  it('splits and verifies arbitrary and mutated frame bodies without throwing anything but a ReplicationError', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (bytes) => {
        await settles(async () => verifyFrames(splitFrames(bytes, 1024), start))
      }),
      params(2000),
    )
  })

  it('accepts a damaged frame body never: every single flipped bit is caught', async () => {
    expect(verifyFrames(splitFrames(Buffer.concat(frames), 1024), start)).toHaveLength(frames.length)
    await fc.assert(
      fc.asyncProperty(fc.nat(10_000), async (bit) => {
        const bytes = Buffer.from(Buffer.concat(frames))
        bytes[Math.floor(bit / 8) % bytes.byteLength]! ^= 1 << (bit % 8)
        await expect((async () => verifyFrames(splitFrames(bytes, 1024), start))()).rejects.toBeInstanceOf(
          ReplicationError,
        )
      }),
      params(1000),
    )
  })
})
