// The shipper's engine: the SHIPPER_TRANSITIONS state machine driven by one async loop. Each state has one step
// (connect, ship a batch, wait for a commit, back off); each step ends in an event, and the table says where to go.
import type { LogView } from '@homedb/tables'
import type { Clock } from '../clock.js'
import { type ReplicationError, ReplicationStoppedError } from '../errors.js'
import { type LogPosition, relatePosition } from '../position.js'
import type { ShipperNotice, ShipperStatus } from '../shipper-status.js'
import { SHIPPER_TRANSITIONS, type ShipperEvent, type ShipperState } from '../state-machines.js'
import type { Backoff, LoopDetector } from './backoff.js'
import type { ControlAnswer, HomeClient } from './home-client.js'

const HOLD = 'homedb-ship'
const TERMINAL = new Set<ShipperState>(['diverged', 'incompatible', 'failed', 'closed'])

export interface ShipperDeps {
  readonly view: LogView
  readonly client: HomeClient
  readonly clock: Clock
  readonly backoff: Backoff
  readonly loops: LoopDetector
  readonly maxBatchBytes: number
  readonly onClosed: () => void
}

interface Waiter {
  readonly seq: number
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

export class ShipperCore {
  private state: ShipperState = 'connecting'
  /** The home's acknowledged position: every commit up to it is durable there. */
  private acked: LogPosition | undefined
  private epoch = 1
  private lastError: ReplicationError | Error | undefined
  private homeHead: LogPosition | null | undefined
  private escalate = false
  /** The wait a 429/503 asked for (`Retry-After`), used by the next pause. */
  private retryAfterMs = 0
  /** The last answer was `busy` (a move holds the user a moment): the next pause is the home's hint alone. */
  private busy = false
  private readonly stop = new AbortController()
  private waiters: Waiter[] = []
  private listeners = new Set<(notice: ShipperNotice) => void>()
  private wake: (() => void) | undefined
  private pendingSnapshot: number | undefined
  private loop: Promise<void> | undefined
  private offAppend: () => void = () => {}
  private offSnapshot: () => void = () => {}

  constructor(private readonly deps: ShipperDeps) {}

  start(): void {
    const { view } = this.deps
    // Keep every commit the log holds until the home has acknowledged it.
    view.hold(HOLD, view.start.seq)
    this.offAppend = view.onAppend(() => this.wake?.())
    this.offSnapshot = view.onSnapshot((info) => {
      this.pendingSnapshot = info.seq
      this.wake?.()
    })
    this.loop = this.run()
  }

  status(): ShipperStatus {
    const ackedSeq = this.acked?.seq ?? 0
    const lagCommits = Math.max(0, this.deps.view.head.seq - ackedSeq)
    return {
      state: this.state,
      ackedSeq,
      lagCommits,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.homeHead === undefined ? {} : { homeHead: this.homeHead }),
    }
  }

  onNotice(listener: (notice: ShipperNotice) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  private notify(notice: ShipperNotice): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(notice)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  flushed(): Promise<void> {
    const seq = this.deps.view.head.seq
    if ((this.acked?.seq ?? -1) >= seq) return Promise.resolve()
    if (TERMINAL.has(this.state)) return Promise.reject(this.stoppedError())
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }))
  }

  private fire(event: ShipperEvent): void {
    const to = SHIPPER_TRANSITIONS[this.state][event]
    if (to === null || to === this.state) return
    const from = this.state
    this.state = to
    this.notify({ type: 'state', from, to, status: this.status() })
    if (TERMINAL.has(to)) {
      const error = this.stoppedError()
      for (const w of this.waiters.splice(0)) w.reject(error)
      this.wake?.()
    }
  }

  private stoppedError(): Error {
    if (this.state === 'failed' && this.lastError !== undefined) return this.lastError
    const code =
      this.state === 'diverged'
        ? 'REPLICATION_DIVERGED'
        : this.state === 'incompatible'
          ? 'REPLICATION_INCOMPATIBLE'
          : 'REPLICATION_CLOSED'
    return new ReplicationStoppedError(code, `the shipper stopped (${this.state})`, {
      state: this.state,
      ackedSeq: this.acked?.seq ?? 0,
      homeHead: this.homeHead ?? null,
    })
  }

  private async run(): Promise<void> {
    while (!TERMINAL.has(this.state)) {
      try {
        if (this.state === 'connecting') await this.connect()
        else if (this.state === 'shipping') await this.shipBatch()
        else if (this.state === 'idle') await this.idle()
        else if (this.state === 'backoff') await this.pause()
      } catch (error) {
        if (this.stop.signal.aborted) break
        await this.failed(error)
      }
    }
  }

  /**
   * An error thrown by a step. A refused fixed token stops the shipper; with a token function it backs off and
   * asks the function again, until the token was refused `loopLimit` times in a row. A loop stops it; anything
   * else is retried.
   */
  private async failed(error: unknown): Promise<void> {
    this.lastError = error as Error
    const code = (error as { code?: string }).code
    if (code === 'REPLICATION_AUTH') {
      const verdict = this.deps.client.renewable ? this.deps.loops.see('unauthorized', this.acked?.seq ?? -1) : 'loop'
      this.escalate = verdict === 'slow-down'
      return this.fire(verdict === 'loop' ? 'fatal' : 'net-error')
    }
    if (code === 'REPLICATION_LOOP' || code === 'REPLICATION_UNKNOWN_USER') this.fire('fatal')
    else this.fire('net-error')
  }

  private async pause(): Promise<void> {
    // A `busy` home asked for a short wait and is not failing: its hint alone, the backoff does not grow.
    let delay = this.busy ? this.retryAfterMs : Math.max(this.deps.backoff.next(), this.retryAfterMs)
    this.busy = false
    if (this.escalate) delay = Math.max(delay, this.deps.loops.escalation())
    this.escalate = false
    this.retryAfterMs = 0
    await this.deps.clock.sleep(delay, this.stop.signal)
    this.fire('retry')
  }

  /** A control answer: resolve again, slowing down (then giving up) if it repeats at the same position. */
  private answered(answer: ControlAnswer): void {
    this.lastError = new Error(`${answer.code}: ${answer.message}`)
    this.homeHead = answer.head
    this.fire(this.eventFor(answer))
  }

  private eventFor(answer: ControlAnswer): ShipperEvent {
    if (answer.code === 'diverged') return 'diverged'
    if (answer.code === 'incompatible') return 'incompatible'
    // The user moved: the client already points at the new home; resolve there at once (same position).
    if (answer.code === 'moved') return 'conflict'
    // Busy or failing for now (busy during a move, 429 rate-limited, 503 unavailable, 5xx, 408): wait as asked,
    // never a loop.
    if (answer.status >= 500 || answer.status === 408 || answer.status === 429) {
      this.busy = answer.code === 'busy'
      this.retryAfterMs = answer.retryAfterMs ?? (this.busy ? 25 : 0)
      return 'net-error'
    }
    if (answer.code === 'too-large' && this.batchBytes > 1) {
      this.batchBytes = Math.max(1, Math.floor(this.batchBytes / 2))
      return 'conflict'
    }
    const verdict = this.deps.loops.see(answer.code, this.acked?.seq ?? -1)
    if (verdict === 'loop') {
      this.lastError = new ReplicationStoppedError(
        'REPLICATION_LOOP',
        `the home answered ${answer.code} at seq ${this.acked?.seq ?? 0} too many times in a row`,
        { answer: answer.code, seq: this.acked?.seq ?? 0, home: answer.head },
      )
      return 'fatal'
    }
    this.escalate = verdict === 'slow-down'
    // 409s are about positions: resolve again at once (unless repeating); anything else waits first.
    return verdict === 'slow-down' || answer.status !== 409 ? 'net-error' : 'conflict'
  }

  private batchBytes = 0

  /** Reads the home's head and decides where shipping resumes. */
  private async connect(): Promise<void> {
    const { view, client } = this.deps
    if (this.batchBytes === 0) this.batchBytes = this.deps.maxBatchBytes
    const info = await client.info(this.stop.signal)
    if ('ok' in info) return this.answered(info)
    this.epoch = info.epoch
    const local = { logId: view.logId, ...view.start }
    if (info.log === null) {
      if (view.start.seq === 0) return this.resolvedAt({ ...local, seq: 0 })
      return this.shipSnapshot(null)
    }
    const home = info.log.head
    this.homeHead = home
    const relation = await relatePosition(view, home)
    if (relation === 'same' || relation === 'behind') return this.resolvedAt(home, info.log.snapshot?.seq ?? 0)
    if (relation === 'need-snapshot') return this.shipSnapshot(home)
    if (relation === 'incompatible') return this.fire('incompatible')
    this.lastError = new ReplicationStoppedError(
      'REPLICATION_DIVERGED',
      relation === 'ahead'
        ? `the home holds commits up to seq ${home.seq} that this log does not (a stale writer)`
        : `the home's history forked from this log at or before seq ${home.seq}`,
      { home, local: { logId: view.logId, ...view.head } },
    )
    this.fire('diverged')
  }

  private resolvedAt(position: LogPosition, homeSnapshotSeq = 0): void {
    this.setAcked(position)
    this.deps.view.latestSnapshot().then(
      (snap) => {
        if (snap !== undefined && snap.seq > homeSnapshotSeq) this.pendingSnapshot = snap.seq
      },
      () => undefined,
    )
    this.fire('resolved')
  }

  private setAcked(position: LogPosition): void {
    this.acked = position
    this.deps.view.hold(HOLD, position.seq)
    let n = 0
    while (n < this.waiters.length && this.waiters[n]!.seq <= position.seq) n++
    if (n > 0) for (const w of this.waiters.splice(0, n)) w.resolve()
  }

  /**
   * Ships the local latest snapshot as the home's new base (`replaces`: the home head it replaces, null for none),
   * when the local log starts past what the home holds.
   */
  private async shipSnapshot(replaces: LogPosition | null): Promise<void> {
    const { view, client } = this.deps
    const snap = await view.latestSnapshot()
    if (snap === undefined) {
      this.lastError = new Error('the local log starts past the home but has no snapshot to ship')
      return this.fire('net-error')
    }
    const position = { logId: view.logId, seq: snap.seq, chain: snap.chain }
    const answer = await client.putSnapshot(position, this.epoch, replaces, snap.chunks(), this.stop.signal)
    if (!answer.ok) return this.answered(answer)
    this.notify({ type: 'snapshot', seq: snap.seq, base: true })
    this.resolvedAt(position, snap.seq)
  }

  /** Ships the snapshot a local compaction wrote, once the home holds its seq. */
  private async storeSnapshot(): Promise<void> {
    const seq = this.pendingSnapshot
    if (seq === undefined || this.acked === undefined || this.acked.seq < seq) return
    this.pendingSnapshot = undefined
    const snap = await this.deps.view.latestSnapshot()
    if (snap === undefined || snap.seq > this.acked.seq) return
    const position = { logId: this.deps.view.logId, seq: snap.seq, chain: snap.chain }
    const answer = await this.deps.client.putSnapshot(position, this.epoch, undefined, snap.chunks(), this.stop.signal)
    if (answer.ok) this.notify({ type: 'snapshot', seq: snap.seq, base: false })
    else this.lastError = new Error(`snapshot ${snap.seq} not stored: ${answer.code}: ${answer.message}`)
  }

  /** Ships the next batch of locally durable commits after the acknowledged position. */
  private async shipBatch(): Promise<void> {
    const { view, client } = this.deps
    const acked = this.acked!
    // What is durable already goes now; only when nothing is does the cycle wait for the newest commit's flush.
    let durable = view.durableHead
    if (durable.seq <= acked.seq) durable = await view.durable()
    if (durable.seq <= acked.seq) {
      await this.storeSnapshot()
      return this.fire('caught-up')
    }
    const frames: Uint8Array[] = []
    let bytes = 0
    let last = acked
    for await (const c of view.readEncoded({ from: acked.seq })) {
      if (c.seq > durable.seq) break
      frames.push(c.frame)
      bytes += c.frame.byteLength
      last = { logId: acked.logId, seq: c.seq, chain: c.chain }
      if (bytes >= this.batchBytes) break
    }
    const answer = await client.append(acked, this.epoch, Buffer.concat(frames), this.stop.signal)
    if (!answer.ok) return this.answered(answer)
    this.deps.loops.reset()
    this.deps.backoff.reset()
    this.lastError = undefined
    this.homeHead = answer.head
    this.setAcked(last)
    this.notify({ type: 'acked', seq: last.seq })
    this.fire('acked')
  }

  /** Waits for a new durable commit, a compaction, or close. */
  private async idle(): Promise<void> {
    await this.storeSnapshot()
    const { view } = this.deps
    if (view.head.seq > (this.acked?.seq ?? 0)) return this.fire('commit')
    await new Promise<void>((resolve) => {
      this.wake = resolve
      if (view.head.seq > (this.acked?.seq ?? 0) || this.stop.signal.aborted) resolve()
    })
    this.wake = undefined
    if (!this.stop.signal.aborted) this.fire('commit')
  }

  async close(): Promise<void> {
    if (!this.stop.signal.aborted) {
      this.stop.abort()
      this.fire('close')
      this.wake?.()
      this.offAppend()
      this.offSnapshot()
    }
    await this.loop
    try {
      this.deps.view.release(HOLD)
    } catch {
      // the db closed first
    }
    this.deps.onClosed()
  }
}
