// The state of one running chaos proxy: which request gets which fault (budget, deadline, partition in progress),
// what is held, what was counted, who is listening, and how a request is dispatched to the relay for its fault.
import type { Agent, ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ChaosClock } from './chaos-clock.js'
import { type ChaosEvent, type CleanReason, EventLog, type ExchangeOutcome } from './chaos-events.js'
import { type Hold, Holds } from './chaos-holds.js'
import { answerWith, duplicate } from './chaos-response.js'
import {
  boundFault,
  bufferable,
  type ChaosLimits,
  drawFault,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type PartitionMode,
  type RequestHead,
} from './chaos-schedule.js'
import { clientTurn, drain, type Exchange, type RelayContext, resetClient, sendUpstream } from './chaos-upstream.js'

/** Counters of a chaos proxy, as a snapshot. */
export interface ChaosStats {
  /** Requests seen (every one, faulted or not). */
  readonly requests: number
  /** Requests sent upstream (a duplicate counts twice, a refused request not at all). */
  readonly upstreamRequests: number
  /** Faults injected, by kind (a partition counts once, however many requests it swallowed). */
  readonly faults: Readonly<Record<FaultKind, number>>
  /** All faults injected: what the budget is spent on. */
  readonly totalFaults: number
  /** Requests that arrived during a partition. */
  readonly partitionedRequests: number
  /** Connections reset on accept during a partition. */
  readonly refusedConnections: number
  /** Finished requests by how they ended for the client. */
  readonly outcomes: Readonly<Record<ExchangeOutcome, number>>
  /** The most bytes ever queued towards one client (the relay waits for a drain beyond its high-water mark). */
  readonly maxBufferedBytes: number
  /** Responses whose relay is waiting right now for a slow client to drain (upstream is not read meanwhile). */
  readonly waitingForClient: number
  /** Sockets open now on each side. */
  readonly openConnections: { readonly client: number; readonly upstream: number }
  /** Why the proxy is clean, or `null` while it still injects faults. */
  readonly clean: CleanReason | null
}

/** One request's draw: the schedule entry that two runs of a seed can compare. */
export interface Decision {
  readonly index: number
  readonly connection: number
  readonly method: string
  readonly path: string
  readonly fault: Fault | null
}

/** Everything a session is started with (checked already). */
export interface SessionConfig {
  readonly hostname: string
  readonly port: number
  readonly seed: number
  readonly rates: Readonly<Record<FaultKind, number>>
  readonly limits: ChaosLimits
  readonly budget: number
  readonly partitionMode: PartitionMode
  readonly clock: ChaosClock
  readonly agent: Agent
  readonly script: ((head: RequestHead) => Fault | null | undefined) | undefined
  readonly only: ((head: RequestHead) => boolean) | undefined
}

const OUTCOMES: readonly ExchangeOutcome[] = [
  'answered',
  'refused',
  'dropped',
  'truncated',
  'cut',
  'partitioned',
  'client-gone',
  'upstream-error',
]

interface Partition {
  readonly oneWay: boolean
  readonly over: Promise<unknown>
}

/** One proxy's state; the relay calls back into it through `RelayContext`. */
export class ChaosSession implements RelayContext {
  readonly target: { readonly hostname: string; readonly port: number }
  readonly agent: Agent
  readonly limits: ChaosLimits
  readonly clock: ChaosClock
  readonly decisions: Decision[] = []
  /** Every event, to listeners and to `waitFor`; a listener that throws counts as a failure of the proxy. */
  readonly events = new EventLog((error) => this.#errors.push(error))
  readonly #config: SessionConfig
  readonly #holds: Holds
  readonly #faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
  readonly #outcomes = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<ExchangeOutcome, number>
  readonly #counts = {
    requests: 0,
    upstream: 0,
    total: 0,
    partitioned: 0,
    refusedConnections: 0,
    maxBuffered: 0,
    waitingForClient: 0,
  }
  readonly #clients = new Set<Socket>()
  readonly #upstreams = new Set<Socket>()
  readonly #reorders = new Map<number, Hold>()
  readonly #settledWaiters: Array<() => void> = []
  readonly #errors: unknown[] = []
  #clean: CleanReason | null = null
  #partition: Partition | null = null
  #active = 0
  #deadline: number | null = null
  #untilTimer: unknown

  constructor(config: SessionConfig) {
    this.#config = config
    this.target = { hostname: config.hostname, port: config.port }
    this.agent = config.agent
    this.limits = config.limits
    this.clock = config.clock
    this.#holds = new Holds(config.clock, () => this.#checkSettled())
    if (config.budget === 0) this.turnClean('budget')
  }

  /** The arrival index of the next request. */
  nextIndex(): number {
    return this.#counts.requests++
  }

  /** A new client connection: reset at once during a two-way partition, else tracked until it closes. */
  accept(socket: Socket, id: number): void {
    if (this.#partition !== null && !this.#partition.oneWay) {
      this.#counts.refusedConnections++
      this.#emit({ type: 'connection-refused', connection: id })
      socket.resetAndDestroy()
      return
    }
    this.#clients.add(socket)
    socket.once('close', () => this.#clients.delete(socket))
  }

  /** A request arrived: decide its fault and run it. */
  request(req: IncomingMessage, res: ServerResponse, head: RequestHead): void {
    const partition = this.#partition
    const fault = partition === null ? this.#decide(head) : null
    const ex: Exchange = {
      head,
      req,
      res,
      fault,
      upstream: new Set(),
      sent: 0,
      detached: false,
      clientGone: false,
      cut: false,
    }
    res.on('close', () => {
      if (res.writableFinished) return
      ex.clientGone = true
      if (!ex.detached) for (const upstream of ex.upstream) upstream.destroy()
    })
    const inside = fault?.kind === 'partition' ? this.#startPartition(head.index, fault.ms, fault.oneWay) : partition
    if (inside !== null) this.#counts.partitioned++
    const run = clientTurn(ex).then(() => (inside === null ? this.#dispatch(ex, fault) : this.#partitioned(ex, inside)))
    this.#track(ex, fault !== null || inside !== null, run)
  }

  #decide(head: RequestHead): Fault | null {
    if (this.#clean !== null) return null
    if (this.#deadline !== null && this.clock.now() >= this.#deadline) {
      this.turnClean('until')
      return null
    }
    const { only, script, seed, rates, limits, partitionMode } = this.#config
    if (only !== undefined && !only(head)) return null
    let fault =
      script === undefined ? drawFault(seed, head, rates, limits, partitionMode) : this.#scripted(script, head)
    if (fault?.kind === 'duplicate' && !bufferable(head, limits)) fault = null
    if (fault !== null) fault = boundFault(fault, limits)
    const { index, connection, method, path } = head
    this.decisions.push({ index, connection, method, path, fault })
    this.#emit({ type: 'decision', index, method, path, fault })
    if (fault === null) return null
    this.#faults[fault.kind]++
    if (++this.#counts.total >= this.#config.budget) this.turnClean('budget')
    return fault
  }

  #scripted(script: (head: RequestHead) => Fault | null | undefined, head: RequestHead): Fault | null {
    try {
      return script(head) ?? null
    } catch (error) {
      this.#errors.push(error)
      return null
    }
  }

  async #dispatch(ex: Exchange, fault: Fault | null): Promise<ExchangeOutcome> {
    switch (fault?.kind) {
      case 'refuse':
        resetClient(ex)
        return 'refused'
      case 'drop-response':
        return this.#dropResponse(ex)
      case 'duplicate':
        return duplicate(this, ex, fault)
      case 'delay':
        await this.hold(ex, 'delay', fault.ms).done
        return this.#forward(ex, null)
      case 'reorder':
        await this.#reorderHold(ex, fault.ms)
        return this.#forward(ex, null)
      default:
        return this.#forward(ex, fault ?? null)
    }
  }

  #forward(ex: Exchange, fault: Fault | null): Promise<ExchangeOutcome> | ExchangeOutcome {
    if (ex.clientGone) return 'client-gone'
    return answerWith(this, ex, sendUpstream(this, ex, null), fault)
  }

  async #dropResponse(ex: Exchange): Promise<ExchangeOutcome> {
    ex.detached = true
    const sent = sendUpstream(this, ex, null)
    sent.response.then(
      () => this.answered(ex),
      () => {},
    )
    await drain(this, sent)
    resetClient(ex)
    return 'dropped'
  }

  async #reorderHold(ex: Exchange, ms: number): Promise<void> {
    const hold = this.hold(ex, 'reorder', ms)
    this.#reorders.set(ex.head.index, hold)
    await hold.done
    this.#reorders.delete(ex.head.index)
  }

  #startPartition(index: number, ms: number, oneWay: boolean): Partition {
    const hold = this.#holds.wait(ms)
    const partition: Partition = { oneWay, over: hold.done }
    this.#partition = partition
    this.#emit({ type: 'partition-start', index, ms, oneWay })
    void hold.done.then(() => {
      this.#partition = null
      this.#emit({ type: 'partition-end' })
      this.#checkSettled()
    })
    return partition
  }

  /** A request inside a partition: reset, or (one-way) forwarded with its answer lost until the partition ends. */
  async #partitioned(ex: Exchange, partition: Partition): Promise<ExchangeOutcome> {
    if (!partition.oneWay) {
      resetClient(ex)
      return 'partitioned'
    }
    ex.detached = true
    await Promise.all([drain(this, sendUpstream(this, ex, null)), partition.over])
    resetClient(ex)
    return 'partitioned'
  }

  #track(ex: Exchange, faulted: boolean, run: Promise<ExchangeOutcome>): void {
    if (faulted) this.#active++
    run
      .catch((error: unknown) => {
        this.#errors.push(error)
        resetClient(ex)
        return 'upstream-error' as const
      })
      .then((outcome) => {
        this.#outcomes[outcome]++
        this.#emit({ type: 'done', index: ex.head.index, outcome, upstream: ex.sent })
        if (faulted) this.#active--
        this.#checkSettled()
      })
  }

  hold(ex: Exchange, kind: FaultKind, ms: number): Hold {
    this.#emit({ type: 'hold', index: ex.head.index, kind, ms })
    return this.#holds.wait(ms)
  }

  sentUpstream(_ex: Exchange, upstream: ClientRequest): void {
    this.#counts.upstream++
    upstream.once('socket', (socket: Socket) => {
      if (this.#upstreams.has(socket)) return
      this.#upstreams.add(socket)
      socket.once('close', () => this.#upstreams.delete(socket))
    })
  }

  answered(ex: Exchange): void {
    for (const [index, hold] of this.#reorders) if (index < ex.head.index) hold.release()
  }

  buffered(_ex: Exchange, bytes: number): void {
    if (bytes > this.#counts.maxBuffered) this.#counts.maxBuffered = bytes
  }

  waitingForClient(ex: Exchange, waiting: boolean): void {
    this.#counts.waitingForClient += waiting ? 1 : -1
    if (waiting) this.#emit({ type: 'backpressure', index: ex.head.index, buffered: ex.res.writableLength })
  }

  /** Turns clean `ms` clock milliseconds from now. */
  endAfter(ms: number): void {
    this.#deadline = this.clock.now() + ms
    this.#untilTimer = this.clock.setTimeout(() => this.turnClean('until'), ms)
  }

  /** Injects no new fault from now on (a no-op once clean). */
  turnClean(reason: CleanReason): void {
    if (this.#clean !== null) return
    this.#clean = reason
    if (this.#untilTimer !== undefined) this.clock.clearTimeout(this.#untilTimer)
    this.#emit({ type: 'clean', reason })
    this.#checkSettled()
  }

  /** Turns clean and ends every hold now (partitions included). */
  heal(reason: CleanReason): void {
    this.turnClean(reason)
    this.#holds.healAll()
  }

  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.#settledWaiters.push(resolve)
      this.#checkSettled()
    })
  }

  #checkSettled(): void {
    if (this.#clean === null || this.#active > 0 || this.#partition !== null || this.#holds.size > 0) return
    for (const resolve of this.#settledWaiters.splice(0)) resolve()
  }

  #emit(event: ChaosEvent): void {
    this.events.emit(event)
  }

  snapshot(): ChaosStats {
    const c = this.#counts
    return {
      requests: c.requests,
      upstreamRequests: c.upstream,
      faults: { ...this.#faults },
      totalFaults: c.total,
      partitionedRequests: c.partitioned,
      refusedConnections: c.refusedConnections,
      outcomes: { ...this.#outcomes },
      maxBufferedBytes: c.maxBuffered,
      waitingForClient: c.waitingForClient,
      openConnections: { client: this.#clients.size, upstream: this.#upstreams.size },
      clean: this.#clean,
    }
  }

  /** Heals, closes `server` and every socket on both sides; rejects with the proxy's own failures, if any. */
  async shutdown(server: Server): Promise<void> {
    this.heal('close')
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    for (const socket of this.#clients) socket.destroy()
    this.agent.destroy()
    for (const socket of this.#upstreams) socket.destroy()
    await closed
    if (this.#errors.length > 0)
      throw new AggregateError(
        this.#errors,
        `chaos proxy (seed ${this.#config.seed}) failed ${this.#errors.length} time(s)`,
      )
  }
}
