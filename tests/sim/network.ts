// The simulated network: every request of every process (writers' shippers, replicas, homes reading other homes and
// the directory, movers, the operator) goes through one `Transport` per process incarnation, is encoded to bytes as
// over HTTP, and is served by the destination's route table (route-serving.ts) after a seeded latency. The seed
// decides each message's fate: lost before the server saw it or after it answered (a reset, or silence until the
// client's timeout), delivered twice, delayed by a spike (so concurrent messages overtake each other), a bit flipped
// in a frames body, an answer cut short; partitions (one-way or both ways) lose everything across them. A server that
// crashes resets its connections; a dead client's requests never settle (its code stops where it was).
import type { Transport, TransportRequest, TransportResponse } from '@homedb/replication'
import type { Rng } from '@homedb/testkit'
import { type ServedResponse, type SimService, serveRequest } from './route-serving.js'
import type { ProcessClock, SimScheduler } from './scheduler.js'
import type { SimTrace } from './trace.js'

/** Probabilities, per message, of each network fault. */
export interface NetworkFaults {
  /** Lost before reaching the server. */
  readonly dropRequest: number
  /** Lost after the server answered. */
  readonly dropResponse: number
  /** Delivered to the server a second time, later (its answer is thrown away). */
  readonly duplicate: number
  /** A latency spike (100 ms – 2 s) instead of the usual 1–10 ms. */
  readonly spike: number
  /** One bit of a frames body flipped (append bodies, tail answers, pages): the receiver must refuse it. */
  readonly corrupt: number
  /** The answer's body cut short (the connection broke while it was read). */
  readonly cut: number
}

/** A network that loses nothing. */
export const CALM_NETWORK: NetworkFaults = {
  dropRequest: 0,
  dropResponse: 0,
  duplicate: 0,
  spike: 0,
  corrupt: 0,
  cut: 0,
}

/** Network fault kinds as counted (partitions are counted by the run that makes them). */
export type NetworkFaultKind = 'drop-request' | 'drop-response' | 'duplicate' | 'spike' | 'corrupt' | 'cut' | 'reset'

/** One exchange as the server side saw it (what the observer hears). */
export interface ServedExchange {
  readonly from: string
  readonly to: string
  readonly method: string
  readonly url: URL
  readonly requestHeaders: Readonly<Record<string, string>>
  readonly requestBody: Uint8Array
  readonly response: ServedResponse
}

/** Who hears about traffic: request counts (clients never spin) and what servers answered (invariants). */
export interface NetworkObserver {
  sent(from: string): void
  served(exchange: ServedExchange): void
  fault(kind: NetworkFaultKind): void
}

/** Rewrites frames bodies in transit (a broken network, built by a variant): the new body, or undefined. */
export type Tamper = (
  body: Uint8Array,
  where: 'request' | 'response',
  url: URL,
  requestHeaders: Readonly<Record<string, string>>,
) => Promise<Uint8Array | undefined>

interface Registration {
  readonly name: string
  readonly service: SimService
  readonly inFlight: Set<Exchange>
}

interface Exchange {
  readonly id: number
  readonly from: string
  readonly to: string
  readonly clock: ProcessClock
  readonly request: TransportRequest
  readonly url: URL
  readonly body: Uint8Array
  readonly timeoutMs: number
  readonly sentAt: number
  readonly server: AbortController
  settled: boolean
  /** Stops listening to the client's abort signal (once the exchange settled). */
  detach: () => void
  resolve(response: TransportResponse): void
  reject(error: Error): void
}

const FRAMES = 'application/vnd.homedb.frames'

function netError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
}

async function bytesOf(body: TransportRequest['body']): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array()
  if (body instanceof Uint8Array) return Uint8Array.from(body)
  const parts: Buffer[] = []
  for await (const chunk of body) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts)
}

function lowerCase(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value)
  return out
}

async function* bodyStream(bytes: Uint8Array, cut: boolean): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024)
  if (cut) throw netError('ECONNRESET', 'the connection broke while the body was read')
}

function isFrames(headers: Readonly<Record<string, string>>): boolean {
  return (headers['content-type'] ?? '').startsWith(FRAMES)
}

/** An answer in the trace: its size, or for an error its code (and for a 500 its message). */
function describe(response: ServedResponse, body: Uint8Array): string {
  if (response.status < 400) return `${body.byteLength} B`
  try {
    const error = (
      JSON.parse(Buffer.from(response.body).toString('utf8')) as { error?: { code?: string; message?: string } }
    ).error
    return response.status >= 500 && error?.code !== 'busy'
      ? `${error?.code}: ${(error?.message ?? '').slice(0, 160)}`
      : `${error?.code}`
  } catch {
    return `${body.byteLength} B`
  }
}

/** Short name of a request for the trace: `POST /v1/users/alice/append` → `POST alice/append`. */
function label(method: string, url: URL): string {
  const path = url.pathname.replace(/^\/v1\/(users\/)?/, '').replace(/\/logs\/[0-9a-f]{32}\//, '/')
  return `${method} ${path}`
}

/**
 * The network between every process of a run.
 *
 * @example
 * ```ts
 * const network = new SimNetwork(scheduler, rng.fork(), trace, observer)
 * network.serve('home-a', 'http://home-a.sim', home.service)
 * const transport = network.transport('writer-alice', clock, 30_000)
 * ```
 */
export class SimNetwork {
  /** The fault mix now (the run sets it; CALM_NETWORK once the faults stop). */
  faults: NetworkFaults = CALM_NETWORK
  /** A broken network's rewriting of frames bodies (variants only). */
  tamper: Tamper | undefined
  private readonly services = new Map<string, Registration>()
  private readonly blocked = new Map<string, number>()
  private nextId = 0

  constructor(
    private readonly scheduler: SimScheduler,
    private readonly rng: Rng,
    private readonly trace: SimTrace,
    private readonly observer: NetworkObserver,
    /** Until when a process is stalled: what it sends leaves, and what it is sent arrives, when it resumes. */
    private readonly pausedUntil: (name: string) => number = () => 0,
  ) {}

  /** Runs `step` now, or when `name` resumes if it is stalled. */
  private whenRunning(name: string, step: () => void): boolean {
    const until = this.pausedUntil(name)
    if (until <= this.scheduler.now) return false
    this.scheduler.at(until, step)
    return true
  }

  /** `name` answers at `origin` (`http://name.sim`) with `service` from now on. */
  serve(name: string, origin: string, service: SimService): void {
    this.services.set(origin, { name, service, inFlight: new Set() })
  }

  /** The server at `origin` died: it answers nothing more and every connection to it is reset. */
  unserve(origin: string): void {
    const registration = this.services.get(origin)
    if (registration === undefined) return
    this.services.delete(origin)
    for (const exchange of registration.inFlight) {
      exchange.server.abort()
      this.fail(exchange, netError('ECONNRESET', `${registration.name} went away`), this.latency())
    }
    registration.inFlight.clear()
  }

  /** Messages from `from` to `to` are lost until virtual time `until`. */
  block(from: string, to: string, until: number): void {
    this.blocked.set(`${from}>${to}`, Math.max(until, this.blocked.get(`${from}>${to}`) ?? 0))
  }

  /** Every partition ends now. */
  heal(): void {
    this.blocked.clear()
  }

  private isBlocked(from: string, to: string): boolean {
    const until = this.blocked.get(`${from}>${to}`)
    return until !== undefined && until > this.scheduler.now
  }

  private latency(): number {
    if (this.faults.spike > 0 && this.rng.chance(this.faults.spike)) {
      this.observer.fault('spike')
      return this.rng.int(100, 2_000)
    }
    return this.rng.int(1, 10)
  }

  /** A Transport for one incarnation of process `name` (dead once `clock` is killed). */
  transport(name: string, clock: ProcessClock, timeoutMs: number): Transport {
    return {
      request: async (request) => {
        if (!clock.alive) return new Promise<never>(() => undefined)
        const body = await bytesOf(request.body)
        return new Promise<TransportResponse>((resolve, reject) => {
          const url = new URL(request.url)
          const exchange: Exchange = {
            id: ++this.nextId,
            from: name,
            to: this.services.get(url.origin)?.name ?? url.host,
            clock,
            request,
            url,
            body,
            timeoutMs,
            sentAt: this.scheduler.now,
            server: new AbortController(),
            settled: false,
            detach: () => undefined,
            resolve,
            reject,
          }
          this.send(exchange)
        })
      },
    }
  }

  /** Settles an exchange with an error after `ms` (unless it settled meanwhile or its client died). */
  private fail(exchange: Exchange, error: Error, ms: number): void {
    if (exchange.settled) return
    exchange.settled = true
    exchange.detach()
    this.scheduler.after(ms, () => {
      if (exchange.clock.alive) exchange.reject(error)
    })
  }

  private lost(exchange: Exchange, why: string): void {
    this.trace.add(exchange.from, `#${exchange.id} ${label(exchange.request.method, exchange.url)} → ${why}`)
    if (this.rng.chance(0.5)) this.fail(exchange, netError('ECONNRESET', `${why}`), this.latency())
    else this.fail(exchange, netError('ETIMEDOUT', `no answer within ${exchange.timeoutMs} ms`), exchange.timeoutMs)
  }

  private send(exchange: Exchange): void {
    if (this.whenRunning(exchange.from, () => this.send(exchange))) return
    this.observer.sent(exchange.from)
    const signal = exchange.request.signal
    if (signal?.aborted) {
      this.fail(exchange, abortError(), 0)
      return
    }
    if (signal !== undefined) {
      const aborted = () => {
        exchange.server.abort()
        this.fail(exchange, abortError(), 0)
      }
      signal.addEventListener('abort', aborted, { once: true })
      exchange.detach = () => signal.removeEventListener('abort', aborted)
    }
    if (this.isBlocked(exchange.from, exchange.to)) {
      this.lost(exchange, 'lost (partition)')
      return
    }
    if (this.faults.dropRequest > 0 && this.rng.chance(this.faults.dropRequest)) {
      this.observer.fault('drop-request')
      this.lost(exchange, 'request lost')
      return
    }
    this.scheduler.after(this.latency(), () => void this.arrive(exchange))
  }

  private async arrive(exchange: Exchange): Promise<void> {
    if (exchange.settled) return
    if (this.whenRunning(exchange.to, () => void this.arrive(exchange))) return
    const registration = this.services.get(exchange.url.origin)
    if (registration === undefined) {
      this.trace.add(exchange.from, `#${exchange.id} ${label(exchange.request.method, exchange.url)} → refused`)
      return this.fail(exchange, netError('ECONNREFUSED', `nothing listens at ${exchange.url.origin}`), 1)
    }
    let body = exchange.body
    if (isFrames(lowerCase(exchange.request.headers))) body = await this.damage(body, 'request', exchange)
    registration.inFlight.add(exchange)
    const response = await this.handle(registration, exchange, body)
    registration.inFlight.delete(exchange)
    if (this.services.get(exchange.url.origin) !== registration || exchange.settled) return
    this.served(registration, exchange, body, response)
    if (this.faults.duplicate > 0 && this.rng.chance(this.faults.duplicate))
      this.duplicate(registration, exchange, body)
    await this.answer(exchange, response)
  }

  /** Tells the observer that `registration` answered `exchange` (whose body arrived as `body`) with `response`. */
  private served(registration: Registration, exchange: Exchange, body: Uint8Array, response: ServedResponse): void {
    this.observer.served({
      from: exchange.from,
      to: registration.name,
      method: exchange.request.method,
      url: exchange.url,
      requestHeaders: lowerCase(exchange.request.headers),
      requestBody: body,
      response,
    })
  }

  private handle(registration: Registration, exchange: Exchange, body: Uint8Array): Promise<ServedResponse> {
    return serveRequest(registration.service, {
      method: exchange.request.method,
      url: exchange.url,
      headers: lowerCase(exchange.request.headers),
      body,
      remote: exchange.from,
      signal: exchange.server.signal,
    })
  }

  /** The request reaches the server again later (a retransmission); its answer goes nowhere. */
  private duplicate(registration: Registration, exchange: Exchange, body: Uint8Array): void {
    this.observer.fault('duplicate')
    this.trace.add(exchange.from, `#${exchange.id} ${label(exchange.request.method, exchange.url)} duplicated`)
    this.scheduler.after(this.rng.int(1, 500), () => {
      if (this.services.get(exchange.url.origin) !== registration) return
      void this.handle(registration, { ...exchange, server: new AbortController() }, body).then((response) =>
        this.served(registration, exchange, body, response),
      )
    })
  }

  private async answer(exchange: Exchange, response: ServedResponse): Promise<void> {
    const what = `#${exchange.id} ${label(exchange.request.method, exchange.url)}`
    if (this.isBlocked(exchange.to, exchange.from))
      return this.lost(exchange, `${response.status}, answer lost (partition)`)
    if (this.faults.dropResponse > 0 && this.rng.chance(this.faults.dropResponse)) {
      this.observer.fault('drop-response')
      return this.lost(exchange, `${response.status}, answer lost`)
    }
    let body = response.body
    let cut = response.cut
    if (isFrames(response.headers) && response.status === 200) body = await this.damage(body, 'response', exchange)
    if (!cut && body.byteLength > 0 && this.faults.cut > 0 && this.rng.chance(this.faults.cut)) {
      this.observer.fault('cut')
      body = body.subarray(0, this.rng.int(0, body.byteLength - 1))
      cut = true
    }
    this.trace.add(exchange.from, `${what} → ${response.status}${cut ? ' (cut)' : ''} ${describe(response, body)}`)
    const delivered: TransportResponse = {
      status: response.status,
      headers: response.headers,
      body: bodyStream(body, cut),
    }
    exchange.settled = true
    exchange.detach()
    const deliver = () => {
      if (this.whenRunning(exchange.from, deliver)) return
      if (exchange.clock.alive && !exchange.request.signal?.aborted) exchange.resolve(delivered)
      else if (exchange.clock.alive) exchange.reject(abortError())
    }
    this.scheduler.after(this.latency(), deliver)
  }

  /** A frames body after the network: one bit flipped now and then, or what a broken network's tamper makes. */
  private async damage(body: Uint8Array, where: 'request' | 'response', exchange: Exchange): Promise<Uint8Array> {
    if (this.tamper !== undefined) {
      const tampered = await this.tamper(body, where, exchange.url, lowerCase(exchange.request.headers))
      if (tampered !== undefined) return tampered
    }
    if (body.byteLength === 0 || this.faults.corrupt === 0 || !this.rng.chance(this.faults.corrupt)) return body
    this.observer.fault('corrupt')
    const copy = Uint8Array.from(body)
    const at = this.rng.int(0, copy.byteLength - 1)
    copy[at] = copy[at]! ^ (1 << this.rng.int(0, 7))
    return copy
  }
}
