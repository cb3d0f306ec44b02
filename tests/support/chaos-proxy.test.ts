// The chaos proxy's own tests, on real loopback sockets with a recording test server behind the proxy: plain
// forwarding and backpressure, then for every fault what the client observed and what the server saw. Timed faults
// run on a manual clock: tests wait for events and advance time, they never sleep.
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { chaosFixture, done, held, receivedBytes, text } from './chaos-fixture.js'
import { manualClock } from './chaos-proxy.js'
import { call, pattern } from './chaos-test-kit.js'

const fx = chaosFixture()
const { proxyWith, scripted, keepAlive, until } = fx

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
    expect(fx.server.accepted).toBe(1) // the proxy kept one upstream connection for all five sequential requests
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
    const blocked = () => (fx.server.waitingDrain && proxy.stats.waitingForClient === 1) || fx.server.written === total
    await until(blocked, ['blocked', 'flood-done'], proxy)
    const writtenWhilePaused = fx.server.written
    response.resume()
    const got = await reply
    expect(got.error).toBeNull()
    expect(got.body.equals(pattern(total))).toBe(true)
    expect(writtenWhilePaused).toBeLessThan(total)
    const queued = proxy.stats.maxBufferedBytes
    console.log(
      `backpressure: when both ends were blocked the server had written ${writtenWhilePaused} of ${total} bytes to the paused client; the proxy queued at most ${queued}`,
    )
    expect(queued).toBeLessThan(1 << 20)
  })
})

describe('faults, as the client and the server see them', { timeout: 20_000 }, () => {
  it('refuse: the client gets a reset and the server never sees the request', async () => {
    const proxy = await scripted({ 0: { kind: 'refuse' } })
    const refused = await call(`${proxy.url}/count`, { method: 'POST' })
    expect(refused).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(fx.server.count('/count')).toBe(0)
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('1')
    expect(proxy.stats).toMatchObject({ upstreamRequests: 1, faults: { refuse: 1 }, outcomes: { refused: 1 } })
  })

  it('drop-response: the server handles the request, the client gets a reset instead of the answer', async () => {
    const proxy = await scripted({ 0: { kind: 'drop-response' } })
    const dropped = await call(`${proxy.url}/count`, { method: 'POST', body: 'x' })
    expect(dropped).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(fx.server.count('/count')).toBe(1)
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
      expect(fx.server.seen.map((s) => s.body)).toEqual(['payload', 'payload'])
    },
  )

  it('delay: a held request is overtaken by a later one on another connection', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'delay', ms: 150 } }, { clock })
    const first = call(`${proxy.url}/count?from=a`, { method: 'POST' })
    await held(proxy, 0)
    expect(text(await call(`${proxy.url}/count?from=b`, { method: 'POST' }))).toBe('1')
    expect(fx.server.seen.map((s) => s.path)).toEqual(['/count?from=b'])
    clock.advance(150)
    expect(text(await first)).toBe('2')
    expect(fx.server.seen.map((s) => s.path)).toEqual(['/count?from=b', '/count?from=a'])
  })

  it('reorder: a held request goes on as soon as a later one was answered, without waiting out its bound', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'reorder', ms: 60_000 } }, { clock, limits: { maxDelayMs: 60_000 } })
    const first = call(`${proxy.url}/count?from=a`, { method: 'POST' })
    await held(proxy, 0)
    expect(text(await call(`${proxy.url}/count?from=b`, { method: 'POST' }))).toBe('1')
    expect(text(await first)).toBe('2')
    expect(fx.server.seen.map((s) => s.path)).toEqual(['/count?from=b', '/count?from=a'])
  })

  it('stall before the head: the server has answered, the client sees nothing until the stall ends', async () => {
    const clock = manualClock()
    const proxy = await scripted({ 0: { kind: 'stall', at: 'head', fraction: 0, bytes: 0, ms: 300 } }, { clock })
    let headSeen = false
    const reply = call(`${proxy.url}/big?bytes=1000`, { onHead: () => (headSeen = true) })
    await held(proxy, 0)
    expect(fx.server.count('/big')).toBe(1)
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
    expect(fx.server.count('/empty')).toBe(1)
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
    const polling = until(() => fx.server.count('/poll') === 1, ['poll'])
    const reply = call(`${proxy.url}/poll`)
    await polling
    const aborted = until(() => fx.server.abortedPolls === 1, ['poll-aborted'])
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
    const aborted = until(() => fx.server.abortedPolls === 1, ['poll-aborted'])
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
    expect(fx.server.count('/big')).toBe(1)
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
    expect(fx.server.count('/count')).toBe(1)
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
    await until(() => fx.server.count('/count') === 1, ['seen'])
    const second = call(`${proxy.url}/count?from=b`, { method: 'POST' })
    await until(() => fx.server.count('/count') === 2, ['seen'])
    clock.advance(500)
    expect(await first).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(await second).toMatchObject({ status: null, error: 'ECONNRESET' })
    expect(text(await call(`${proxy.url}/count`, { method: 'POST' }))).toBe('3')
    expect(proxy.stats.partitionedRequests).toBe(2)
  })
})
