// The chaos proxy's own tests, on real loopback sockets: a recording test server behind the proxy, and for every
// fault what the client observed and what the server saw; then determinism of the schedule, the budget / until /
// heal exits, backpressure, and a shutdown that leaves no connection open. Timed faults run on a manual clock:
// tests wait for events and advance time, they never sleep.
import { Agent, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type ChaosEvent,
  type ChaosProxy,
  type ChaosProxyOptions,
  DEFAULT_FAULT_RATES,
  DEFAULT_LIMITS,
  type Fault,
  type FaultRates,
  manualClock,
  startChaosProxy,
} from './chaos-proxy.js'
import { drawFault, FAULT_KINDS } from './chaos-schedule.js'
import { call, pattern, type Reply, startTestServer, type TestServer } from './chaos-test-kit.js'

let server: TestServer
const proxies: ChaosProxy[] = []
const agents: Agent[] = []

beforeEach(async () => {
  server = await startTestServer()
})

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy()
  for (const proxy of proxies.splice(0)) await proxy.close() // rejects if the proxy itself failed
  await server.close()
})

type Extra = Omit<ChaosProxyOptions, 'target' | 'seed'>

async function proxyWith(extra: Extra, seed = 1): Promise<ChaosProxy> {
  const proxy = await startChaosProxy({ target: server.url, seed, ...extra })
  proxies.push(proxy)
  return proxy
}

/** A proxy that gives request `i` the fault `faults[i]`, and nothing to the others. */
function scripted(faults: Record<number, Fault>, extra: Extra = {}): Promise<ChaosProxy> {
  return proxyWith({ ...extra, script: (head) => faults[head.index] })
}

function keepAlive(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  agents.push(agent)
  return agent
}

const done = (proxy: ChaosProxy, index: number) =>
  proxy.waitFor((e) => e.type === 'done' && e.index === index) as Promise<Extract<ChaosEvent, { type: 'done' }>>
const held = (proxy: ChaosProxy, index: number) => proxy.waitFor((e) => e.type === 'hold' && e.index === index)

/** Resolves once `check()` holds, testing it now and after each of the test server's `events` (and the proxy's). */
function until(check: () => boolean, events: readonly string[], proxy?: ChaosProxy): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe = () => {}
    const test = () => {
      if (!check()) return
      for (const event of events) server.off(event, test)
      unsubscribe()
      resolve()
    }
    for (const event of events) server.on(event, test)
    if (proxy !== undefined) unsubscribe = proxy.on(test)
    test()
  })
}

/** A promise for the moment the client has received `n` body bytes, and the `onData` that feeds it. */
function receivedBytes(n: number): { reached: Promise<number>; onData: (chunk: Buffer, received: number) => void } {
  let resolve!: (received: number) => void
  const reached = new Promise<number>((r) => {
    resolve = r
  })
  return { reached, onData: (_chunk, received) => received >= n && resolve(received) }
}

const text = (reply: Reply) => reply.body.toString()

describe('pass-through', { timeout: 20_000 }, () => {
  it('forwards requests and answers byte for byte over kept-alive connections on both sides', async () => {
    const proxy = await proxyWith({ budget: 0 })
    const agent = keepAlive()
    expect(text(await call(`${proxy.url}/echo`, { method: 'POST', body: 'hello', agent }))).toBe('hello')
    expect((await call(`${proxy.url}/big?bytes=100000`, { agent })).body.equals(pattern(100_000))).toBe(true)
    const streamed = await call(`${proxy.url}/stream?chunks=8&size=5000`, { agent })
    expect(streamed.headers['transfer-encoding']).toBe('chunked')
    expect(streamed.body.equals(pattern(40_000))).toBe(true)
    expect((await call(`${proxy.url}/empty`, { agent })).status).toBe(204)
    const viaFetch = await fetch(`${proxy.url}/echo`, { method: 'POST', body: 'from fetch' })
    expect(await viaFetch.text()).toBe('from fetch')
    expect(server.accepted).toBe(1) // the proxy kept one upstream connection for all five sequential requests
    expect(proxy.stats).toMatchObject({ requests: 5, upstreamRequests: 5, totalFaults: 0 })
    expect(proxy.stats.openConnections.client).toBe(2) // the agent's and fetch's
  })

  it('relays a long response to a client that stops reading without buffering it (backpressure)', async () => {
    const proxy = await proxyWith({ budget: 0 })
    const total = 32 << 20
    let paused!: (res: IncomingMessage) => void
    const head = new Promise<IncomingMessage>((resolve) => {
      paused = resolve
    })
    const reply = call(`${proxy.url}/flood?bytes=${total}`, {
      onHead: (res) => {
        res.pause()
        paused(res)
      },
    })
    const response = await head
    // Both ends blocked at once: the proxy waits for the paused client, the server for the proxy. A proxy that
    // buffered instead would never wait, and the server would write everything while the client reads nothing.
    const blocked = () => (server.waitingDrain && proxy.stats.waitingForClient === 1) || server.written === total
    await until(blocked, ['blocked', 'flood-done'], proxy)
    const writtenWhilePaused = server.written
    response.resume()
    const got = await reply
    expect(got.error).toBeNull()
    expect(got.body.equals(pattern(total))).toBe(true)
    expect(writtenWhilePaused).toBeLessThan(total)
    expect(proxy.stats.maxBufferedBytes).toBeLessThan(1 << 20)
  })
})

describe('faults, as the client and the server see them', { timeout: 20_000 }, () => {
  it('refuse: the client gets a reset and the server never sees the request', async () => {
    const proxy = await scripted({ 0: { kind: 'refuse' } })
    const refused = await call(`${proxy.url}/count`, { method: 'POST' })
    expect(refused).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(server.count('/count')).toBe(0)
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('1')
    expect(proxy.stats).toMatchObject({ upstreamRequests: 1, faults: { refuse: 1 }, outcomes: { refused: 1 } })
  })

  it('drop-response: the server handles the request, the client gets a reset instead of the answer', async () => {
    const proxy = await scripted({ 0: { kind: 'drop-response' } })
    const dropped = await call(`${proxy.url}/count`, { method: 'POST', body: 'x' })
    expect(dropped).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(server.count('/count')).toBe(1)
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('2')
    expect(proxy.stats.outcomes.dropped).toBe(1)
  })

  it.each([
    ['sequential', 'first', ['1']],
    ['sequential', 'second', ['2']],
    ['concurrent', 'first', ['1', '2']],
    ['concurrent', 'second', ['1', '2']],
  ] as const)(
    'duplicate (%s, answer %s): the server handles it twice with the same body, the client gets one answer',
    async (mode, answer, expected) => {
      const proxy = await scripted({ 0: { kind: 'duplicate', mode, answer } })
      const reply = await call(`${proxy.url}/count`, { method: 'POST', body: 'payload' })
      expect(reply.status).toBe(200)
      expect(expected).toContain(text(reply))
      expect((await done(proxy, 0)).upstream).toBe(2)
      expect(server.seen.map((s) => s.body)).toEqual(['payload', 'payload'])
    },
  )

  it('delay: a held request is overtaken by a later one on another connection', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'delay', ms: 150 } }, { clock })
    const first = call(`${proxy.url}/count?from=a`, { method: 'POST' })
    await held(proxy, 0)
    expect(text(await call(`${proxy.url}/count?from=b`, { method: 'POST' }))).toBe('1')
    expect(server.seen.map((s) => s.path)).toEqual(['/count?from=b'])
    clock.advance(150)
    expect(text(await first)).toBe('2')
    expect(server.seen.map((s) => s.path)).toEqual(['/count?from=b', '/count?from=a'])
  })

  it('reorder: a held request goes on as soon as a later one was answered, without waiting out its bound', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'reorder', ms: 60_000 } }, { clock, limits: { maxDelayMs: 60_000 } })
    const first = call(`${proxy.url}/count?from=a`, { method: 'POST' })
    await held(proxy, 0)
    expect(text(await call(`${proxy.url}/count?from=b`, { method: 'POST' }))).toBe('1')
    expect(text(await first)).toBe('2')
    expect(server.seen.map((s) => s.path)).toEqual(['/count?from=b', '/count?from=a'])
  })

  it('stall before the head: the server has answered, the client sees nothing until the stall ends', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'stall', at: 'head', fraction: 0, bytes: 0, ms: 300 } }, { clock })
    let headSeen = false
    const reply = call(`${proxy.url}/big?bytes=1000`, { onHead: () => (headSeen = true) })
    await held(proxy, 0)
    expect(server.count('/big')).toBe(1)
    expect(headSeen).toBe(false)
    clock.advance(300)
    const got = await reply
    expect(got.error).toBeNull()
    expect(got.body.equals(pattern(1000))).toBe(true)
  })

  it.each([
    ['a Content-Length body, at a fraction', '/big?bytes=1000', 0.5, 0, 500, 1000],
    ['a chunked body, at a byte count', '/stream?chunks=4&size=1000', 0, 1500, 1500, 4000],
  ])(
    'stall in %s: the client holds exactly the bytes before the stall, then gets the rest',
    async (_what, path, fraction, bytes, at, length) => {
      const clock = manualClock()
      const proxy = await scripted({ 0: { kind: 'stall', at: 'body', fraction, bytes, ms: 300 } }, { clock })
      const progress = receivedBytes(at)
      const reply = call(`${proxy.url}${path}`, { onData: progress.onData })
      await held(proxy, 0)
      expect(await progress.reached).toBe(at)
      clock.advance(300)
      const got = await reply
      expect(got.error).toBeNull()
      expect(got.body.equals(pattern(length))).toBe(true)
    },
  )

  it.each([
    ['a Content-Length body', '/big?bytes=10000', 0.25, 0, 2500],
    ['a chunked body', '/stream?chunks=4&size=1000', 0, 2500, 2500],
    ['a chunked body shorter than the cut point (its end is withheld)', '/stream?chunks=4&size=1000', 0, 99_999, 4000],
  ])('truncate %s: the client gets a short body and an error', async (_what, path, fraction, bytes, kept) => {
    const proxy = await scripted({ 0: { kind: 'truncate', fraction, bytes } })
    const got = await call(`${proxy.url}${path}`)
    expect(got.status).toBe(200)
    expect(got.body.equals(pattern(kept))).toBe(true)
    expect(got.error).not.toBeNull()
    expect(proxy.stats.outcomes.truncated).toBe(1)
  })

  it('truncate a response without a body: the client gets a reset instead of its head', async () => {
    const proxy = await scripted({ 0: { kind: 'truncate', fraction: 0.5, bytes: 10 } })
    expect(await call(`${proxy.url}/empty`)).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(server.count('/empty')).toBe(1)
  })

  it('truncate is an error for fetch too, not a short success', async () => {
    const proxy = await scripted({ 0: { kind: 'truncate', fraction: 0.5, bytes: 0 } })
    const res = await fetch(`${proxy.url}/big?bytes=10000`)
    expect(res.headers.get('content-length')).toBe('10000')
    await expect(res.arrayBuffer()).rejects.toThrow()
  })

  it('cut a long-poll that has not answered: the client gets a reset and the server sees it go away', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'cut', ms: 100 } }, { clock })
    const polling = until(() => server.count('/poll') === 1, ['poll'])
    const reply = call(`${proxy.url}/poll`)
    await polling
    const aborted = until(() => server.abortedPolls === 1, ['poll-aborted'])
    clock.advance(100)
    expect(await reply).toMatchObject({ status: null, error: 'ECONNRESET' })
    await aborted
  })

  it('cut a streamed response mid-stream: the client keeps what came and gets an error', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'cut', ms: 100 } }, { clock })
    const progress = receivedBytes('waiting\n'.length)
    const reply = call(`${proxy.url}/poll?head=1`, { onData: progress.onData })
    await progress.reached
    const aborted = until(() => server.abortedPolls === 1, ['poll-aborted'])
    clock.advance(100)
    const got = await reply
    expect(got).toMatchObject({ status: 200, error: 'ECONNRESET' })
    expect(text(got)).toBe('waiting\n')
    await aborted
  })

  it('cut a response that finished first: its last byte is withheld, so the client still sees a cut', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'cut', ms: 100 } }, { clock })
    const progress = receivedBytes(99)
    const reply = call(`${proxy.url}/big?bytes=100`, { onData: progress.onData })
    expect(await progress.reached).toBe(99)
    clock.advance(100)
    const got = await reply
    expect(got.error).toBe('ECONNRESET')
    expect(got.body.equals(pattern(99))).toBe(true)
    expect(server.count('/big')).toBe(1)
  })

  it('truncate still closes the connection of a response queued behind an unfinished one on it', async () => {
    const clock = manualClock()
    const proxy = await scripted(
      { 0: { kind: 'delay', ms: 100 }, 1: { kind: 'truncate', fraction: 0.5, bytes: 0 } },
      { clock },
    )
    const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1')
    const received: Buffer[] = []
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    const ended = new Promise((resolve) => {
      socket.once('end', resolve)
      socket.once('error', resolve)
    })
    // Pipelined: b arrives while a is held, so node:http queues b's response until a's is finished.
    socket.write(
      'POST /count HTTP/1.1\r\nHost: p\r\nContent-Length: 0\r\n\r\nGET /big?bytes=1000 HTTP/1.1\r\nHost: p\r\n\r\n',
    )
    await proxy.waitFor((e) => e.type === 'decision' && e.index === 1)
    clock.advance(100)
    await ended
    socket.destroy()
    const bytes = Buffer.concat(received)
    const lastHead = bytes.lastIndexOf('\r\n\r\n')
    expect(bytes.subarray(0, lastHead).toString()).toMatch(
      /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n1HTTP\/1\.1 200 OK[\s\S]*content-length: 1000/i,
    )
    expect(bytes.subarray(lastHead + 4).equals(pattern(500))).toBe(true)
    expect(proxy.stats.outcomes).toMatchObject({ answered: 1, truncated: 1 })
  })

  it('partition both ways: requests on open connections and new connections are reset until it ends', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 1: { kind: 'partition', ms: 500, oneWay: false } }, { clock })
    const agent = keepAlive()
    expect(text(await call(`${proxy.url}/count`, { method: 'POST', agent }))).toBe('1')
    expect(await call(`${proxy.url}/count`, { method: 'POST' })).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(await call(`${proxy.url}/count`, { method: 'POST', agent })).toMatchObject({ status: null })
    const fresh = await call(`${proxy.url}/count`, { method: 'POST' })
    expect(fresh.status).toBeNull()
    expect(fresh.error).not.toBeNull()
    expect(server.count('/count')).toBe(1)
    const ended = proxy.waitFor((e) => e.type === 'partition-end')
    clock.advance(500)
    await ended
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('2')
    expect(proxy.stats).toMatchObject({ partitionedRequests: 2, refusedConnections: 1, faults: { partition: 1 } })
  })

  it('partition one way: requests reach the server, every answer is lost and the client hears a reset at the end', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'partition', ms: 500, oneWay: true } }, { clock })
    const first = call(`${proxy.url}/count?from=a`, { method: 'POST' })
    await until(() => server.count('/count') === 1, ['seen'])
    const second = call(`${proxy.url}/count?from=b`, { method: 'POST' })
    await until(() => server.count('/count') === 2, ['seen'])
    clock.advance(500)
    expect(await first).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(await second).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('3')
    expect(proxy.stats.partitionedRequests).toBe(2)
  })
})

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
    expect(server.count('/count')).toBe(20)
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
    await until(() => server.count('/count') === 1, ['seen'])
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
    server.on('poll', () => setImmediate(() => server.answerPolls('answer'))) // short long-polls
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
    server.answerPolls('late answer')
    const clean = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(`${proxy.url}/echo`, { method: 'POST', body: `${i}` })),
    )
    expect(clean.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`))
    await proxy.close()
    await until(() => server.sockets.size === 0, ['disconnect'])
  })
})

describe('shutdown and options', { timeout: 20_000 }, () => {
  it('close() leaves no connection open on either side, a long-poll in progress included', async () => {
    const proxy = await proxyWith({ budget: 0 })
    const polling = until(() => server.count('/poll') === 1, ['poll'])
    const poll = call(`${proxy.url}/poll`)
    await polling
    expect((await call(`${proxy.url}/count`, { method: 'POST', agent: keepAlive() })).error).toBeNull()
    expect(server.sockets.size).toBe(2) // the long-poll's upstream connection and an idle kept-alive one
    expect(proxy.stats.openConnections).toEqual({ client: 2, upstream: 2 })
    await proxy.close()
    expect((await poll).error).not.toBeNull()
    await until(() => server.sockets.size === 0, ['disconnect'])
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
    const options = { target: server.url, seed: 1, ...bad } as ChaosProxyOptions
    await expect(startChaosProxy(options)).rejects.toMatchObject({ name: 'ChaosProxyError', code: 'CHAOS_BAD_OPTIONS' })
  })

  it('bounds a scripted fault by the limits', async () => {
    const proxy = await scripted({ 0: { kind: 'delay', ms: 1e12 } }, { limits: { maxDelayMs: 5 } })
    expect((await call(`${proxy.url}/count`, { method: 'POST' })).error).toBeNull()
    expect(proxy.decisions[0]?.fault).toEqual({ kind: 'delay', ms: 5 })
  })
})
