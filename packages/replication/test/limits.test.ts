// The home's limits on request rate and tails, and the clients' answer to them: a busy home (429, 503) is asked
// again after the wait it names, for as long as it stays busy, and never becomes a loop error.
import { lookupTable, openDb, schema } from '@homedb/tables'
import { describe, expect, it } from 'vitest'
import {
  type Clock,
  HomeService,
  openReplica,
  replicaStatus,
  ship,
  type Transport,
  type TransportRequest,
} from '../src/index.js'
import { resolveLimits, TailCount } from '../src/internal/limits.js'
import { RateLimiter } from '../src/internal/rate-limit.js'
import { tempDir } from './support/temp-dir.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })
const next = tempDir()

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0
  return {
    now: () => now,
    sleep: async () => {},
    advance(ms) {
      now += ms
    },
  }
}

describe('rate limiter', () => {
  it('admits a burst, then one request per refill interval, and says how long to wait', () => {
    const clock = manualClock()
    const limiter = new RateLimiter({ perSecond: 10, burst: 3 }, clock)
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0])
    expect(limiter.take('a')).toBe(100)
    expect(limiter.take('b')).toBe(0) // another credential has its own bucket
    clock.advance(99)
    expect(limiter.take('a')).toBeGreaterThan(0)
    clock.advance(2)
    expect(limiter.take('a')).toBe(0)
    clock.advance(10_000)
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0, 100])
  })

  it('keeps at most its bound of buckets, forgetting the least recently used', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, manualClock(), 100)
    for (let i = 0; i < 1_000; i++) limiter.take(`k${i}`)
    expect(limiter.size).toBe(100)
  })

  it('refuses a request over the rate with 429 rate-limited and Retry-After, and a bad rate at open', async () => {
    const clock = manualClock()
    const home = await HomeService.open({ dataDir: next(), clock, rateLimit: { perSecond: 1, burst: 2 } })
    const ask = () =>
      home.handle({
        method: 'GET',
        path: '/v1/users/alice/log',
        query: {},
        headers: { authorization: 'Bearer some-token-of-16-chars' },
        body: new Uint8Array(),
        signal: new AbortController().signal,
      })
    expect((await ask()).status).toBe(401)
    expect((await ask()).status).toBe(401)
    const limited = await ask()
    expect(limited.status).toBe(429)
    expect(limited.headers['retry-after']).toBe('1')
    expect(JSON.parse(Buffer.from(limited.body as Uint8Array).toString()).error).toMatchObject({
      code: 'rate-limited',
      retryAfterMs: 1000,
    })
    await home.close()
    await expect(HomeService.open({ dataDir: next(), rateLimit: { perSecond: 0, burst: 1 } })).rejects.toMatchObject({
      code: 'REPLICATION_CONFIG',
    })
  })
})

describe('tail places', () => {
  it('gives each user at most its places and the server at most its total, and takes them back once', () => {
    const tails = new TailCount(resolveLimits({ maxTailsPerUser: 2, maxTails: 3 }))
    const a1 = tails.enter('a')
    const a2 = tails.enter('a')
    expect(tails.enter('a')).toBeUndefined()
    const b1 = tails.enter('b')
    expect(tails.enter('c')).toBeUndefined()
    expect(tails.size).toBe(3)
    a1!()
    a1!()
    expect(tails.size).toBe(2)
    expect(tails.enter('a')).toBeDefined()
    a2!()
    b1!()
  })
})

/** A home that answers the first `busy` requests 429 (Retry-After: 1) or 503, then like an empty home. */
function busyHome(busy: number, status: 429 | 503, seen: TransportRequest[]): Transport {
  const body = (value: unknown) =>
    (async function* () {
      yield Buffer.from(JSON.stringify(value))
    })()
  return {
    async request(request) {
      seen.push(request)
      if (seen.length <= busy) {
        const code = status === 429 ? 'rate-limited' : 'unavailable'
        return { status, headers: { 'retry-after': '1' }, body: body({ error: { code, message: 'busy' } }) }
      }
      if (request.url.endsWith('/log')) return { status: 200, headers: {}, body: body({ epoch: 1, log: null }) }
      return { status: 200, headers: {}, body: body({ head: null }) }
    },
  }
}

describe('clients facing a busy home', () => {
  it.each([429, 503] as const)('waits at least Retry-After after each %i and never calls it a loop', async (status) => {
    const db = await openDb(Core)
    const waits: number[] = []
    const clock: Clock = {
      now: () => Date.now(),
      sleep: async (ms) => {
        waits.push(ms)
      },
    }
    const seen: TransportRequest[] = []
    const retry = { baseMs: 1, maxMs: 5, loopThreshold: 2, loopLimit: 3 }
    const shipper = ship(db, {
      home: 'http://home.invalid',
      user: 'alice',
      token: 'alice-token-for-tests',
      transport: busyHome(20, status, seen),
      clock,
      retry,
    })
    await new Promise<void>((resolve) => {
      const off = shipper.onNotice((n) => {
        if (n.type === 'state' && n.to === 'idle') resolve(off())
      })
    })
    expect(shipper.status.state).toBe('idle')
    expect(seen.length).toBeGreaterThan(20)
    // 20 busy answers, each followed by a wait of at least the second it asked for, far past loopLimit (3).
    expect(waits.filter((ms) => ms >= 1000).length).toBe(20)
    await shipper.close()
    await db.close()
  })

  it('opens a replica through 20 busy answers, each waited out, without a loop error', async () => {
    const waits: number[] = []
    const clock: Clock = {
      now: () => Date.now(),
      sleep: async (ms, signal) => {
        waits.push(ms)
        if (ms < 1000) await new Promise((r) => setTimeout(r, 1))
        if (signal?.aborted) return
      },
    }
    const seen: TransportRequest[] = []
    const replica = await openReplica(Core, {
      home: 'http://home.invalid',
      user: 'alice',
      token: 'alice-token-for-tests',
      transport: busyHome(20, 429, seen),
      clock,
      retry: { baseMs: 1, maxMs: 5, loopThreshold: 2, loopLimit: 3 },
    })
    expect(replicaStatus(replica).state).not.toBe('failed')
    expect(waits.filter((ms) => ms >= 1000).length).toBe(20)
    await replica.close()
  })
})
