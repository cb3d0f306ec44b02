// The chaos proxy's life cycle, on real loopback sockets: the seeded schedule is deterministic and keeps its
// rates, the proxy turns clean by budget, deadline, stop() and heal(), survives a concurrent soak under the default
// mix, closes every connection, and refuses bad options. Seeds are printed; CHAOS_SEED replays another.
import { describe, expect, it } from 'vitest'
import { chaosFixture, done, held, text } from './chaos-fixture.js'
import {
  type ChaosProxyOptions,
  DEFAULT_FAULT_RATES,
  DEFAULT_LIMITS,
  type FaultRates,
  manualClock,
  startChaosProxy,
} from './chaos-proxy.js'
import { drawFault, FAULT_KINDS } from './chaos-schedule.js'
import { call, type Reply } from './chaos-test-kit.js'

const fx = chaosFixture()
const { proxyWith, scripted, keepAlive, until } = fx

/** What one request of a sequential run looked like from the client. */
type Seen = { path: string; status: number | null; ok: boolean }

/** Sends `requests` one at a time through a fresh proxy of `seed`, each waited for to the end (duplicates too). */
async function sequentialRun(seed: number, rates: FaultRates, requests: number) {
  const limits = { maxDelayMs: 3, maxStallMs: 3, maxCutMs: 3 }
  const proxy = await proxyWith({ faults: rates, budget: Number.POSITIVE_INFINITY, partition: 'both', limits }, seed)
  const paths = ['/count', '/big?bytes=3000', '/stream?chunks=3&size=700', '/empty', '/echo']
  const seen: Seen[] = []
  for (let i = 0; i < requests; i++) {
    const path = paths[i % paths.length] as string
    const method = path === '/count' || path === '/echo' ? 'POST' : 'GET'
    const reply = await call(`${proxy.url}${path}`, method === 'POST' ? { method, body: `request ${i}` } : {})
    await done(proxy, i)
    seen.push({ path, status: reply.status, ok: reply.error === null })
  }
  await proxy.close()
  return { decisions: proxy.decisions.map((d) => ({ path: d.path, fault: d.fault })), seen, faults: proxy.stats.faults }
}

describe('the seeded schedule', { timeout: 20_000 }, () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20_261_125)

  it(`makes the same decisions for the same seed and request sequence, and others for another seed (seed ${seed})`, async () => {
    console.log(`chaos proxy determinism: seed ${seed} (set CHAOS_SEED to replay another)`)
    const rates = Object.fromEntries(FAULT_KINDS.filter((k) => k !== 'partition').map((k) => [k, 0.08]))
    const first = await sequentialRun(seed, rates, 40)
    const again = await sequentialRun(seed, rates, 40)
    const other = await sequentialRun(seed + 1, rates, 40)
    expect(again.decisions).toEqual(first.decisions)
    expect(again.faults).toEqual(first.faults)
    expect(again.seen.map((s) => s.ok)).toEqual(first.seen.map((s) => s.ok))
    expect(first.decisions.filter((d) => d.fault !== null).length).toBeGreaterThan(10)
    expect(first.seen.some((s) => !s.ok)).toBe(true)
    expect(other.decisions).not.toEqual(first.decisions)
  })

  it(`draws each kind at its rate, as a pure function of seed and request (seed ${seed})`, () => {
    console.log(`chaos proxy rates: seed ${seed}`)
    const counts = new Map<string, number>()
    const n = 20_000
    for (let index = 0; index < n; index++) {
      const head = { index, connection: 0, method: 'POST', path: '/x', contentLength: 10, chunked: false }
      const fault = drawFault(seed, head, DEFAULT_FAULT_RATES, DEFAULT_LIMITS, 'either')
      expect(drawFault(seed, head, DEFAULT_FAULT_RATES, DEFAULT_LIMITS, 'either')).toEqual(fault)
      counts.set(fault?.kind ?? 'none', (counts.get(fault?.kind ?? 'none') ?? 0) + 1)
    }
    for (const kind of FAULT_KINDS)
      expect(Math.abs((counts.get(kind) ?? 0) / n - DEFAULT_FAULT_RATES[kind])).toBeLessThan(0.01)
  })

  it('never duplicates a body it would have to buffer past the bound, nor a chunked one', () => {
    const limits = { ...DEFAULT_LIMITS, maxBodyBytes: 100 }
    for (let index = 0; index < 200; index++) {
      for (const [contentLength, chunked] of [
        [101, false],
        [null, true],
      ] as const) {
        const head = { index, connection: 0, method: 'POST', path: '/x', contentLength, chunked }
        expect(drawFault(1, head, { ...DEFAULT_FAULT_RATES, duplicate: 0.96 }, limits, 'either')?.kind).not.toBe(
          'duplicate',
        )
      }
    }
  })
})

/** Sends `n` POST /count requests one after the other and returns their replies. */
async function countRequests(url: string, n: number): Promise<Reply[]> {
  const replies: Reply[] = []
  for (let i = 0; i < n; i++) replies.push(await call(`${url}/count`, { method: 'POST' }))
  return replies
}

describe('stopping by itself', { timeout: 20_000 }, () => {
  it('turns clean after its budget of faults and then passes every request', async () => {
    const proxy = await proxyWith({ faults: { refuse: 1 }, budget: 3 })
    const replies = await countRequests(proxy.url, 23)
    expect(replies.slice(0, 3).every((r) => r.error === 'ECONNRESET')).toBe(true)
    expect(replies.slice(3).map(text)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)))
    expect(proxy.stats).toMatchObject({ clean: 'budget', totalFaults: 3, faults: { refuse: 3 } })
    await proxy.settled()
  })

  it('turns clean at its deadline and then passes every request', async () => {
    const clock = manualClock()
    const proxy = await proxyWith({ faults: { refuse: 1 }, budget: Number.POSITIVE_INFINITY, until: 1000, clock })
    expect((await countRequests(proxy.url, 2)).map((r) => r.error)).toEqual(['ECONNRESET', 'ECONNRESET'])
    clock.advance(1000)
    expect(proxy.stats.clean).toBe('until')
    expect((await countRequests(proxy.url, 20)).every((r) => r.error === null)).toBe(true)
    expect(fx.server.count('/count')).toBe(20)
  })

  it('heal() releases what it holds at once and passes every later request', async () => {
    const clock = manualClock()
    const limits = { maxDelayMs: 60_000 }
    const proxy = await proxyWith({ faults: { delay: 1 }, budget: Number.POSITIVE_INFINITY, clock, limits })
    const held0 = call(`${proxy.url}/count`, { method: 'POST' })
    await held(proxy, 0)
    proxy.heal()
    expect(text(await held0)).toBe('1')
    expect((await countRequests(proxy.url, 20)).every((r) => r.error === null)).toBe(true)
    expect(proxy.stats).toMatchObject({ clean: 'heal', faults: { delay: 1 } })
    await proxy.settled()
  })

  it('heal() ends a partition in progress', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'partition', ms: 500, oneWay: true } }, { clock })
    const lost = call(`${proxy.url}/count`, { method: 'POST' })
    await until(() => fx.server.count('/count') === 1, ['seen'])
    proxy.heal()
    expect(await lost).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('2')
  })

  it('stop() injects nothing new but lets a fault in progress run to its end; settled() waits for it', async () => {
    const clock = manualClock()
    const proxy = await proxyWith({ faults: { delay: 1 }, budget: Number.POSITIVE_INFINITY, clock })
    const held0 = call(`${proxy.url}/count?from=held`, { method: 'POST' })
    await held(proxy, 0)
    proxy.stop()
    let settled = false
    const settling = proxy.settled().then(() => (settled = true))
    expect(text(await call(`${proxy.url}/count?from=later`, { method: 'POST' }))).toBe('1')
    expect(settled).toBe(false)
    clock.advance(DEFAULT_LIMITS.maxDelayMs)
    expect(text(await held0)).toBe('2')
    await settling
    expect(proxy.stats).toMatchObject({ clean: 'stop', totalFaults: 1 })
  })

  it('injects faults only into the requests `only` accepts', async () => {
    const proxy = await proxyWith({ faults: { refuse: 1 }, only: (head) => head.method === 'POST' })
    expect((await call(`${proxy.url}/big?bytes=10`)).error).toBeNull()
    expect((await call(`${proxy.url}/count`, { method: 'POST' })).error).toBe('ECONNRESET')
    expect(proxy.decisions.map((d) => d.method)).toEqual(['POST'])
  })
})

describe('under concurrent load', { timeout: 20_000 }, () => {
  const seed = Number(process.env.CHAOS_SEED ?? 77_001)

  it(`finishes every request under the default mix on 8 connections, then heals to a clean pass-through (seed ${seed})`, async () => {
    console.log(`chaos proxy load: seed ${seed}`)
    const limits = { maxDelayMs: 20, maxStallMs: 20, maxCutMs: 20, maxPartitionMs: 40, maxDrainMs: 500 }
    const proxy = await proxyWith({ budget: Number.POSITIVE_INFINITY, limits }, seed)
    fx.server.on('poll', () => setImmediate(() => fx.server.answerPolls('answer'))) // short long-polls
    const paths = ['/count', '/big?bytes=20000', '/stream?chunks=5&size=3000', '/empty', '/echo', '/poll?head=1']
    const worker = async (w: number) => {
      const agent = keepAlive()
      for (let i = 0; i < 30; i++) {
        const path = paths[(w + i) % paths.length] as string
        const post = path === '/echo' || path === '/count'
        const reply = await call(
          `${proxy.url}${path}`,
          post ? { method: 'POST', body: `w${w} i${i}`, agent } : { agent },
        )
        if (reply.error === null && path === '/echo') expect(text(reply)).toBe(`w${w} i${i}`)
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))
    const stats = proxy.stats
    console.log(JSON.stringify({ faults: stats.faults, outcomes: stats.outcomes }))
    expect(stats.requests + stats.refusedConnections).toBe(240)
    expect(stats.totalFaults).toBeGreaterThanOrEqual(10)
    expect(Object.values(stats.faults).filter((n) => n > 0).length).toBeGreaterThanOrEqual(5)
    proxy.heal()
    await proxy.settled()
    fx.server.answerPolls('late answer')
    const clean = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(`${proxy.url}/echo`, { method: 'POST', body: `${i}` })),
    )
    expect(clean.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`))
    await proxy.close()
    await until(() => fx.server.sockets.size === 0, ['disconnect'])
  })
})

describe('shutdown and options', { timeout: 20_000 }, () => {
  it('close() leaves no connection open on either side, a long-poll in progress included', async () => {
    const proxy = await proxyWith({ budget: 0 })
    const polling = until(() => fx.server.count('/poll') === 1, ['poll'])
    const poll = call(`${proxy.url}/poll`)
    await polling
    expect((await call(`${proxy.url}/count`, { method: 'POST', agent: keepAlive() })).error).toBeNull()
    expect(fx.server.sockets.size).toBe(2) // the long-poll's upstream connection and an idle kept-alive one
    expect(proxy.stats.openConnections).toEqual({ client: 2, upstream: 2 })
    await proxy.close()
    expect((await poll).error).not.toBeNull()
    await until(() => fx.server.sockets.size === 0, ['disconnect'])
    expect(proxy.stats.openConnections).toEqual({ client: 0, upstream: 0 })
  })

  it.each([
    ['a target that is not plain HTTP', { target: 'https://127.0.0.1:1' }],
    ['a target with a path', { target: 'http://127.0.0.1:1/api' }],
    ['a seed that is not an integer', { seed: 1.5 }],
    ['a rate above 1', { faults: { refuse: 2 } }],
    ['rates adding up past 1', { faults: { refuse: 0.6, delay: 0.6 } }],
    ['an unknown fault kind', { faults: { lag: 0.1 } as FaultRates }],
    ['a negative budget', { budget: -1 }],
    ['both rates and a script', { faults: { refuse: 0.1 }, script: () => null }],
    ['a negative limit', { limits: { maxStallMs: -5 } }],
  ])('refuses %s with CHAOS_BAD_OPTIONS before listening', async (_what, bad) => {
    const options = { target: fx.server.url, seed: 1, ...bad } as ChaosProxyOptions
    await expect(startChaosProxy(options)).rejects.toMatchObject({ name: 'ChaosProxyError', code: 'CHAOS_BAD_OPTIONS' })
  })

  it('bounds a scripted fault by the limits', async () => {
    const proxy = await scripted({ 0: { kind: 'delay', ms: 1e12 } }, { limits: { maxDelayMs: 5 } })
    expect((await call(`${proxy.url}/count`, { method: 'POST' })).error).toBeNull()
    expect(proxy.decisions[0]?.fault).toEqual({ kind: 'delay', ms: 5 })
  })
})
