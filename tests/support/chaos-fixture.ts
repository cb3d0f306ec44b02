// The per-test fixture of the chaos proxy's own tests: a fresh recording test server before each test, proxies
// and client agents closed after it (a proxy that failed internally fails the test through `close()`), and the
// small waits those tests share. Every wait is for an event; none is a sleep.
import { Agent } from 'node:http'
import { afterEach, beforeEach } from 'vitest'
import { type ChaosEvent, type ChaosProxy, type ChaosProxyOptions, type Fault, startChaosProxy } from './chaos-proxy.js'
import { type Reply, startTestServer, type TestServer } from './chaos-test-kit.js'

/** Options of a fixture proxy (the target is the test server). */
export type Extra = Omit<ChaosProxyOptions, 'target' | 'seed'>

/** What `chaosFixture` gives each test. */
export interface ChaosFixture {
  /** The test server of the running test. */
  readonly server: TestServer
  /** A proxy in front of the test server, closed after the test. */
  proxyWith(extra: Extra, seed?: number): Promise<ChaosProxy>
  /** A proxy that gives request `i` the fault `faults[i]`, and nothing to the others. */
  scripted(faults: Record<number, Fault>, extra?: Extra): Promise<ChaosProxy>
  /** A keep-alive agent with one connection, destroyed after the test. */
  keepAlive(): Agent
  /** Resolves once `check()` holds, testing it now and after each of the test server's `events` (and the proxy's). */
  until(check: () => boolean, events: readonly string[], proxy?: ChaosProxy): Promise<void>
}

/** Registers the before/after hooks in the calling test file and returns the fixture. */
export function chaosFixture(): ChaosFixture {
  let current: TestServer | undefined
  const proxies: ChaosProxy[] = []
  const agents: Agent[] = []
  beforeEach(async () => {
    current = await startTestServer()
  })
  afterEach(async () => {
    for (const agent of agents.splice(0)) agent.destroy()
    for (const proxy of proxies.splice(0)) await proxy.close() // rejects if the proxy itself failed
    await current?.close()
  })
  const server = (): TestServer => {
    if (current === undefined) throw new Error('the chaos fixture is used outside a test')
    return current
  }
  const proxyWith = async (extra: Extra, seed = 1): Promise<ChaosProxy> => {
    const proxy = await startChaosProxy({ target: server().url, seed, ...extra })
    proxies.push(proxy)
    return proxy
  }
  return {
    get server() {
      return server()
    },
    proxyWith,
    scripted: (faults, extra = {}) => proxyWith({ ...extra, script: (head) => faults[head.index] }),
    keepAlive() {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      agents.push(agent)
      return agent
    },
    until: (check, events, proxy) => until(server(), check, events, proxy),
  }
}

function until(server: TestServer, check: () => boolean, events: readonly string[], proxy?: ChaosProxy): Promise<void> {
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

/** The `done` event of request `index`. */
export const done = (proxy: ChaosProxy, index: number) =>
  proxy.waitFor((e) => e.type === 'done' && e.index === index) as Promise<Extract<ChaosEvent, { type: 'done' }>>

/** The first `hold` event of request `index`. */
export const held = (proxy: ChaosProxy, index: number) => proxy.waitFor((e) => e.type === 'hold' && e.index === index)

/** A promise for the moment the client has received `n` body bytes, and the `onData` that feeds it. */
export function receivedBytes(n: number): {
  reached: Promise<number>
  onData: (chunk: Buffer, received: number) => void
} {
  let resolve!: (received: number) => void
  const reached = new Promise<number>((r) => {
    resolve = r
  })
  return { reached, onData: (_chunk, received) => received >= n && resolve(received) }
}

/** A reply's body as text. */
export const text = (reply: Reply): string => reply.body.toString()
