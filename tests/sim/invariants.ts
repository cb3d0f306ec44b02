// The safety invariants of a simulation run, checked as events happen (the final convergence and liveness checks
// live in deployment.ts):
// - no two nodes hold different frames at the same (logId, seq): every frame a home acknowledged or served goes into
//   one registry of claims, and every frame a home acknowledged from a writer must be the one that writer made
//   durable (a writer's own history is kept apart: a stale writer replaced by a new machine may fork, which the
//   protocol refuses, so its frames never reach a home);
// - no acknowledged commit is lost: a writer's recovered log holds every commit whose durability promise resolved;
//   a home that restarts still holds every append it acknowledged under the epoch it still serves;
// - at most one home accepts a user's writes per homeEpoch (the homes' `onAccepted` audit hook);
// - clients never spin: no process sends more than `spinLimit` requests in any simulated second.
import type { AcceptedAppend } from '@homedb/replication'
import type { ServedExchange } from './network.js'
import type { SimScheduler } from './scheduler.js'
import type { SimStats } from './sim-stats.js'
import type { SimTrace } from './trace.js'
import { readFrames } from './wire-frames.js'

/** A broken invariant: the run fails with it. */
export class SimViolation extends Error {
  override readonly name = 'SimViolation'
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`${invariant}: ${message}`)
  }
}

/** What the checks need from the run. */
export interface InvariantDeps {
  readonly scheduler: SimScheduler
  readonly trace: SimTrace
  readonly stats: SimStats
  /** Most requests one process may send in any simulated second. */
  readonly spinLimit: number
}

/** A position as the checks keep it. */
export interface Claim {
  readonly logId: string
  readonly seq: number
  readonly chain: string
}

const APPEND = /^\/v1\/users\/([^/]+)\/append$/
const TAIL = /^\/v1\/users\/([^/]+)\/frames$/
const PAGE = /^\/v1\/users\/([^/]+)\/logs\/([0-9a-f]{32})\/pages\/\d+$/

function parsePosition(text: string | undefined): Claim | undefined {
  const parts = (text ?? '').split(':')
  if (parts.length !== 3) return undefined
  return { logId: parts[0]!, seq: Number(parts[1]), chain: parts[2]! }
}

/** The checks of one run. */
export class Invariants {
  private readonly frames = new Map<string, { chain: string; who: string }>()
  /** Each writer machine's own durable history: (logId:seq) → chain. */
  private readonly written = new Map<string, Map<string, string>>()
  private readonly writerAcked = new Map<string, Claim>()
  private readonly homeAcked = new Map<string, number>()
  private readonly highest = new Map<string, Claim>()
  private readonly epochOwners = new Map<string, string>()
  private readonly windows = new Map<string, number[]>()
  /** The most requests any process sent within one simulated second, and which. */
  busiest = { rate: 0, who: '' }

  constructor(private readonly deps: InvariantDeps) {}

  /** Fails the run with a violation of `invariant`. */
  violation(invariant: string, message: string): void {
    this.deps.trace.add('check', `VIOLATION ${invariant}: ${message}`)
    this.deps.scheduler.fail(new SimViolation(invariant, message))
  }

  /** `who` holds the frame (logId, seq) with `chain`: it must be the one every other node holds there. */
  frame(who: string, logId: string, seq: number, chain: string): void {
    this.deps.stats.checks++
    const key = `${logId}:${seq}`
    const known = this.frames.get(key)
    if (known === undefined) this.frames.set(key, { chain, who })
    else if (known.chain !== chain) {
      this.violation(
        'one history',
        `${who} holds chain ${chain} at seq ${seq} of log ${logId.slice(0, 8)}, ${known.who} holds ${known.chain}`,
      )
    }
  }

  /** The chain every node agrees on at (logId, seq), if any node claimed one. */
  chainAt(logId: string, seq: number): string | undefined {
    return this.frames.get(`${logId}:${seq}`)?.chain
  }

  /** A request left `from` (spin check: requests per simulated second). */
  sent(from: string): void {
    const now = this.deps.scheduler.now
    const window = this.windows.get(from) ?? []
    window.push(now)
    while (window.length > 0 && window[0]! <= now - 1_000) window.shift()
    this.windows.set(from, window)
    if (window.length > this.busiest.rate) this.busiest = { rate: window.length, who: from }
    if (window.length > this.deps.spinLimit) {
      this.violation('no spinning', `${from} sent ${window.length} requests within one simulated second`)
      this.windows.set(from, [])
    }
    this.deps.stats.messages++
  }

  /** A server answered: appends it acknowledged and frames it served are claims of what it holds. */
  served(exchange: ServedExchange): void {
    if (exchange.response.status !== 200) return
    const path = exchange.url.pathname
    const append = APPEND.exec(path)
    if (append !== null && exchange.method === 'POST') {
      this.acknowledged(exchange, append[1]!)
      return
    }
    const tail = TAIL.exec(path)
    const logId = tail !== null ? parsePosition(exchange.url.searchParams.get('position') ?? '')?.logId : undefined
    const page = PAGE.exec(path)
    const id = logId ?? page?.[2]
    if (id === undefined) return
    for (const f of readFrames(exchange.response.body)) this.frame(exchange.to, id, f.seq, f.chain)
  }

  private acknowledged(exchange: ServedExchange, user: string): void {
    const expected = parsePosition(exchange.requestHeaders['homedb-position'])
    const epoch = Number(exchange.requestHeaders['homedb-epoch'])
    if (expected === undefined) return
    const own = this.written.get(exchange.from)
    for (const f of readFrames(exchange.requestBody)) {
      this.frame(exchange.to, expected.logId, f.seq, f.chain)
      const mine = own?.get(`${expected.logId}:${f.seq}`)
      if (mine !== undefined && mine !== f.chain) {
        this.violation(
          'one history',
          `${exchange.to} acknowledged chain ${f.chain} at seq ${f.seq} from ${exchange.from}, whose commit there has chain ${mine}`,
        )
      }
    }
    let head: Claim | undefined
    try {
      head = (JSON.parse(Buffer.from(exchange.response.body).toString('utf8')) as { head?: Claim }).head
    } catch {
      return
    }
    if (head === undefined) return
    this.deps.stats.appendsAcked++
    const key = `${exchange.to}|${user}|${epoch}|${head.logId}`
    this.homeAcked.set(key, Math.max(this.homeAcked.get(key) ?? 0, head.seq))
    const best = this.highest.get(user)
    if (best === undefined || best.logId !== head.logId || best.seq < head.seq) this.highest.set(user, head)
  }

  /** The highest position any home acknowledged for `user` (its log, as last acknowledged). */
  highestAcked(user: string): Claim | undefined {
    return this.highest.get(user)
  }

  /** A home acknowledged an append (its audit hook): one home per user and homeEpoch. */
  accepted(home: string, append: AcceptedAppend): void {
    this.deps.stats.checks++
    const key = `${append.user}@${append.epoch}`
    const owner = this.epochOwners.get(key)
    if (owner === undefined) this.epochOwners.set(key, home)
    else if (owner !== home) {
      this.violation(
        'one home per epoch',
        `${home} accepted ${append.user}'s seqs ${append.from}..${append.to} under homeEpoch ${append.epoch}, which ${owner} accepted writes under too`,
      )
    }
  }

  /** Writer machine `writer` holds `commit` (durable, or found in its log after a reboot): its own history. */
  writerHolds(writer: string, commit: Claim): void {
    this.deps.stats.checks++
    const own = this.written.get(writer) ?? new Map<string, string>()
    this.written.set(writer, own)
    const key = `${commit.logId}:${commit.seq}`
    const before = own.get(key)
    if (before !== undefined && before !== commit.chain) {
      this.violation(
        'no acknowledged commit lost',
        `${writer} holds chain ${commit.chain} at seq ${commit.seq}, where its durable commit had chain ${before}`,
      )
    }
    own.set(key, commit.chain)
  }

  /** A writer's commit is durable (its promise resolved): it must survive every crash of the writer. */
  writerDurable(writer: string, commit: Claim): void {
    this.writerHolds(writer, commit)
    const best = this.writerAcked.get(writer)
    if (best === undefined || best.seq < commit.seq) this.writerAcked.set(writer, commit)
  }

  /** Writer machine `writer` rebooted with `head`: every acknowledged commit must still be there. */
  writerRecovered(writer: string, head: Claim): void {
    this.deps.stats.checks++
    const acked = this.writerAcked.get(writer)
    if (acked !== undefined && (acked.logId !== head.logId || head.seq < acked.seq)) {
      this.violation(
        'no acknowledged commit lost',
        `${writer} recovered at seq ${head.seq}, but commit ${acked.seq} was acknowledged durable`,
      )
    }
  }

  /** The highest commit writer machine `writer` acknowledged durable. */
  writerAckedSeq(writer: string): number {
    return this.writerAcked.get(writer)?.seq ?? 0
  }

  /** A home rebooted and serves `user` under `epoch` but cannot read its log: if it acknowledged appends, they are lost. */
  unreadable(home: string, user: string, epoch: number, why: string): void {
    this.deps.stats.checks++
    const acked = [...this.homeAcked].find(([key]) => key.startsWith(`${home}|${user}|${epoch}|`))
    if (acked !== undefined) {
      this.violation(
        'no acknowledged commit lost',
        `${home} acknowledged ${user}'s commits up to seq ${acked[1]} under homeEpoch ${epoch}, and cannot read its log after a restart (${why})`,
      )
    }
  }

  /** A home rebooted and serves `user` under `epoch` with durable head `head`: what it acknowledged must be there. */
  homeRecovered(home: string, user: string, epoch: number, head: Claim): void {
    this.deps.stats.checks++
    const acked = this.homeAcked.get(`${home}|${user}|${epoch}|${head.logId}`)
    if (acked !== undefined && head.seq < acked) {
      this.violation(
        'no acknowledged commit lost',
        `${home} acknowledged ${user}'s commits up to seq ${acked} under homeEpoch ${epoch}, and holds seq ${head.seq} after a restart`,
      )
    }
  }
}
