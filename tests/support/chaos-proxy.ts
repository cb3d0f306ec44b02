// A seeded chaos proxy for HTTP/1.1 on loopback, to sit between homedb's writer, home server and replicas in
// tests. It forwards every request to one target and, for a bounded number of them, injects an HTTP-aware fault
// (refuse, drop the response, duplicate, delay, reorder, stall, truncate, cut, partition) chosen per request from
// the seed; then it turns itself into a clean pass-through, so a test can assert convergence. Built on node:http
// alone: the faults need control of each request, byte and socket that no proxy library exposes.
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { type ChaosClock, realClock } from './chaos-clock.js'
import type { ChaosEvent } from './chaos-events.js'
import { badOption } from './chaos-proxy-error.js'
import {
  type ChaosLimits,
  checkLimits,
  checkRates,
  DEFAULT_FAULT_RATES,
  type Fault,
  type FaultRates,
  type PartitionMode,
  type RequestHead,
} from './chaos-schedule.js'
import { ChaosSession, type ChaosStats, type Decision } from './chaos-session.js'

export type { ChaosClock, ManualClock } from './chaos-clock.js'
export { manualClock, realClock } from './chaos-clock.js'
export type { ChaosEvent, CleanReason, ExchangeOutcome } from './chaos-events.js'
export { ChaosProxyError, type ChaosProxyErrorCode } from './chaos-proxy-error.js'
export {
  type ChaosLimits,
  DEFAULT_FAULT_RATES,
  DEFAULT_LIMITS,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type FaultRates,
  type PartitionMode,
  type RequestHead,
} from './chaos-schedule.js'
export type { ChaosStats, Decision } from './chaos-session.js'

/** Options of `startChaosProxy`. */
export interface ChaosProxyOptions {
  /** Where requests go: `http://HOST:PORT` (no path; plain HTTP). */
  readonly target: string
  /** Drives every draw; print it in the test output. Only its low 32 bits count. */
  readonly seed: number
  /** Per-kind probabilities (see `FaultRates`); `DEFAULT_FAULT_RATES` when neither this nor `script` is given. */
  readonly faults?: FaultRates
  /** Chooses each request's fault instead of the seeded draw (`null`/`undefined`: none); durations are bounded. */
  readonly script?: (head: RequestHead) => Fault | null | undefined
  /** Only requests it accepts can get a fault (the others pass clean and draw nothing). */
  readonly only?: (head: RequestHead) => boolean
  /** Faults to inject before turning clean (a partition counts once). Default 100; `Infinity` for no bound. */
  readonly budget?: number
  /** Turn clean this many clock milliseconds after the start, whatever the budget left. */
  readonly until?: number
  /** Which partitions to draw: `'both'` ways, `'one-way'` (responses lost) or `'either'` (default). */
  readonly partition?: PartitionMode
  /** Bounds on every hold and buffer (see `ChaosLimits`); missing ones from `DEFAULT_LIMITS`. */
  readonly limits?: Partial<ChaosLimits>
  /** Timers and time; `realClock` by default, a `manualClock` in tests of the proxy itself. */
  readonly clock?: ChaosClock
}

/** A running chaos proxy. */
export interface ChaosProxy {
  /** Where clients connect instead of the target: `http://127.0.0.1:PORT`. */
  readonly url: string
  /** The seed it was started with. */
  readonly seed: number
  /** A snapshot of the counters: requests, faults by kind, outcomes, connections. */
  readonly stats: ChaosStats
  /** One entry per request that drew (in arrival order): the schedule, comparable across runs of a seed. */
  readonly decisions: readonly Decision[]
  /** Calls `listener` with every event from now on; returns the function that unsubscribes it. */
  on(listener: (event: ChaosEvent) => void): () => void
  /** The first event (among the last 10 000, then future ones) that `match` accepts. */
  waitFor(match: (event: ChaosEvent) => boolean): Promise<ChaosEvent>
  /** Injects no new fault from now on; faults in progress run to their (bounded) end. */
  stop(): void
  /** `stop()`, and ends every fault in progress now: partitions end, held requests and stalled responses go on. */
  heal(): void
  /** Resolves once the proxy is clean (budget, `until`, `stop`, `heal`) and no fault is still in progress. */
  settled(): Promise<void>
  /** Heals, stops listening and destroys every connection on both sides. Rejects if the proxy itself failed. */
  close(): Promise<void>
}

interface Checked {
  readonly hostname: string
  readonly port: number
  readonly rates: ReturnType<typeof checkRates>
  readonly limits: ChaosLimits
  readonly budget: number
}

function checkOptions(options: ChaosProxyOptions): Checked {
  let url: URL
  try {
    url = new URL(options.target)
  } catch {
    throw badOption('target', options.target, 'not a URL')
  }
  if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '')
    throw badOption('target', options.target, 'must be http://HOST:PORT')
  if (!Number.isSafeInteger(options.seed)) throw badOption('seed', options.seed, 'must be a safe integer')
  if (options.faults !== undefined && options.script !== undefined)
    throw badOption('faults', options.faults, 'give either faults or script, not both')
  const budget = options.budget ?? 100
  if (!(budget === Number.POSITIVE_INFINITY || (Number.isSafeInteger(budget) && budget >= 0)))
    throw badOption('budget', budget, 'must be an integer ≥ 0 or Infinity')
  if (options.until !== undefined && !(Number.isFinite(options.until) && options.until >= 0))
    throw badOption('until', options.until, 'must be a duration ≥ 0 in milliseconds')
  const mode = options.partition ?? 'either'
  if (!['both', 'one-way', 'either'].includes(mode))
    throw badOption('partition', mode, "must be 'both', 'one-way' or 'either'")
  const rates = checkRates(options.faults ?? (options.script === undefined ? DEFAULT_FAULT_RATES : {}))
  const limits = checkLimits(options.limits ?? {})
  const hostname = url.hostname.replace(/^\[|\]$/g, '')
  return { hostname, port: url.port === '' ? 80 : Number(url.port), rates, limits, budget }
}

/** The head of a request as the schedule sees it. */
function headOf(req: IncomingMessage, index: number, connection: number): RequestHead {
  const declared = req.headers['content-length']
  const n = declared === undefined ? Number.NaN : Number(declared)
  return {
    index,
    connection,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    contentLength: Number.isSafeInteger(n) && n >= 0 ? n : null,
    chunked: req.headers['transfer-encoding'] !== undefined,
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/**
 * Starts a chaos proxy on `127.0.0.1` (a free port) in front of `options.target`. Bad options throw a
 * `ChaosProxyError` (`CHAOS_BAD_OPTIONS`) before anything listens.
 *
 * @example
 * ```ts
 * const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1e9)
 * console.log(`chaos seed ${seed}`)
 * const proxy = await startChaosProxy({ target: home.url, seed, budget: 200 })
 * const shipper = startShipper({ home: proxy.url, ... }) // every request may now fail in some way
 * await runWorkload()
 * proxy.heal() // from here on a clean pass-through
 * await waitForConvergence()
 * console.log(proxy.stats.faults) // { refuse: 9, 'drop-response': 7, ... }
 * await proxy.close()
 * ```
 */
export async function startChaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  const checked = checkOptions(options)
  const clock = options.clock ?? realClock
  const agent = new Agent({ keepAlive: true, timeout: 1_000 })
  const session = new ChaosSession({
    ...checked,
    seed: options.seed,
    clock,
    agent,
    script: options.script,
    only: options.only,
    partitionMode: options.partition ?? 'either',
  })
  const server = createServer()
  const connections = new WeakMap<Socket, number>()
  let accepted = 0
  server.on('connection', (socket: Socket) => {
    const id = accepted++
    connections.set(socket, id)
    session.accept(socket, id)
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const connection = connections.get(req.socket) ?? -1
    session.request(req, res, headOf(req, session.nextIndex(), connection))
  })
  const port = await listen(server)
  if (options.until !== undefined) session.endAfter(options.until)
  let closing: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    seed: options.seed,
    get stats() {
      return session.snapshot()
    },
    get decisions() {
      return session.decisions
    },
    on: (listener) => session.events.subscribe(listener),
    waitFor: (match) => session.events.waitFor(match),
    stop: () => session.turnClean('stop'),
    heal: () => session.heal('heal'),
    settled: () => session.settled(),
    close() {
      closing ??= session.shutdown(server)
      return closing
    },
  }
}
