// A CommitSource over HTTP, for followDb: the home's latest snapshot, then its commits from any position, live
// through long-polls and, when far behind, through the cacheable sealed pages. Every frame is verified (CRC, seq,
// chain) before it is handed on. Control answers that mean "your history is not mine any more" (need-snapshot,
// diverged, incompatible) become LOG_NEED_SNAPSHOT, which makes followDb reload from the snapshot with its reset
// event; network failures are retried with backoff, repeated answers end in REPLICATION_LOOP.
import { LogReadError, type Position } from '@homedb/log'
import type { CommitSource, SnapshotSource } from '@homedb/tables'
import type { Clock } from '../clock.js'
import { ReplicationStoppedError } from '../errors.js'
import type { LogPosition } from '../position.js'
import type { Random } from '../random.js'
import type { ReplicaStatus } from '../replica-status.js'
import { REPLICA_TRANSITIONS, type ReplicaEvent, type ReplicaState } from '../state-machines.js'
import type { Backoff, LoopDetector } from './backoff.js'
import { decodeChunks } from './chunk-stream.js'
import { splitFrames, verifyFrames, type WireFrame } from './frames.js'
import type { ControlAnswer, HomeClient, LogInfo } from './home-client.js'

const RESET_CODES = new Set(['need-snapshot', 'diverged', 'incompatible'])
const MAX_FRAME = 1024 * 1024 * 1024

export interface HomeCommitSourceDeps {
  readonly client: HomeClient
  readonly clock: Clock
  readonly random: Random
  readonly backoff: Backoff
  readonly loops: LoopDetector
  readonly waitMs: number
  readonly confirmIntervalMs: number
  readonly maxSnapshotBytes: number
}

export class HomeCommitSource implements CommitSource {
  private state: ReplicaState = 'bootstrapping'
  private info: NonNullable<LogInfo['log']> | null = null
  /** Chains of the positions this source can resume from (the snapshot loaded, the last frame handed on). */
  private readonly known = new Map<number, string>()
  private delivered: LogPosition | undefined
  /** The last position handed to the db: a commit, or the snapshot it loaded (whichever came last). */
  private applied: LogPosition | null = null
  private lastError: Error | undefined
  private lastConfirm = Number.NEGATIVE_INFINITY
  private cursor = ''
  readonly slot: string
  private readonly stop = new AbortController()

  constructor(private readonly deps: HomeCommitSourceDeps) {
    this.slot = `r${Buffer.from(deps.random.bytes(8)).toString('hex')}`
  }

  get start(): { readonly seq: number } {
    return { seq: this.info?.start.seq ?? 0 }
  }

  status(): ReplicaStatus {
    return {
      state: this.state,
      seq: this.delivered?.seq ?? 0,
      position: this.applied,
      homeHead: this.info?.head ?? null,
      lastError: this.lastError,
    }
  }

  private fire(event: ReplicaEvent): void {
    this.state = REPLICA_TRANSITIONS[this.state][event] ?? this.state
  }

  private async refresh(): Promise<NonNullable<LogInfo['log']> | null> {
    const info = await this.deps.client.info(this.stop.signal)
    if ('ok' in info) throw this.answerError(info)
    if (info.log?.logId !== this.info?.logId) this.known.clear()
    this.info = info.log
    if (info.log !== null) this.known.set(info.log.start.seq, info.log.start.chain)
    return info.log
  }

  /**
   * The home's latest snapshot, downloaded whole before the db sees any of it (at most `maxSnapshotBytes` held): a
   * dropped connection, a cut or damaged body, or a snapshot the writer replaced meanwhile (`gone`) is retried like
   * any request (with the log info read again), instead of failing a load or reload halfway.
   */
  async latestSnapshot(): Promise<SnapshotSource | undefined> {
    const loaded = await this.retrying(() => this.download())
    this.fire('loaded')
    if (loaded === null) return undefined
    const { logId, snap, chunks } = loaded
    this.known.set(snap.seq, snap.chain)
    this.applied = { logId, seq: snap.seq, chain: snap.chain }
    return {
      seq: snap.seq,
      bytes: snap.bytes,
      async *chunks() {
        yield* chunks
      },
    }
  }

  /** Reads the log info and downloads its snapshot (null: the home holds no log, or no snapshot). */
  private async download(): Promise<{
    logId: string
    snap: NonNullable<NonNullable<LogInfo['log']>['snapshot']>
    chunks: Uint8Array[]
  } | null> {
    const log = await this.refresh()
    const snap = log?.snapshot ?? null
    if (log === null || snap === null) return null
    const answer = await this.deps.client.snapshot(log.logId, snap.seq, this.stop.signal)
    if (!answer.ok) throw this.answerError(answer)
    const chunks: Uint8Array[] = []
    for await (const chunk of decodeChunks(answer.body, this.deps.maxSnapshotBytes)) chunks.push(chunk)
    return { logId: log.logId, snap, chunks }
  }

  /** Commits after `from` up to the home's head now. */
  async *read(options: { from: number }): AsyncGenerator<{ seq: number; payload: Uint8Array }> {
    let position = this.positionAt(options.from)
    if (position === undefined) return
    for (;;) {
      const frames = await this.retrying(() => this.pull(position!, 0))
      if (frames.length === 0) return
      for (const f of frames) yield this.handOn(f)
      position = this.delivered!
    }
  }

  /** Commits after `from`, then new ones as they come, until `signal` aborts. */
  async *tail(options: { from: number; signal: AbortSignal }): AsyncGenerator<{ seq: number; payload: Uint8Array }> {
    const signal = AbortSignal.any([options.signal, this.stop.signal])
    let position = this.positionAt(options.from)
    while (!signal.aborted) {
      if (position === undefined) {
        await this.retrying(() => this.refresh())
        position = this.positionAt(options.from)
        if (position === undefined) {
          await this.deps.clock.sleep(this.deps.backoff.next(), signal)
          continue
        }
      }
      const frames = await this.retrying(() => this.pull(position!, this.deps.waitMs, signal), signal)
      for (const f of frames) yield this.handOn(f)
      if (this.delivered !== undefined) position = this.delivered
      if (position.seq >= (this.info?.head.seq ?? 0)) this.fire('at-head')
      void this.confirm()
    }
  }

  private handOn(frame: WireFrame): { seq: number; payload: Uint8Array } {
    this.delivered = { logId: this.info!.logId, seq: frame.seq, chain: frame.chain }
    this.applied = this.delivered
    this.known.set(frame.seq, frame.chain)
    if (this.known.size > 64) this.known.delete(this.known.keys().next().value!)
    this.fire('frames')
    return { seq: frame.seq, payload: frame.payload }
  }

  /** The position to resume from at `seq`, if this source knows its chain. */
  private positionAt(seq: number): LogPosition | undefined {
    if (this.info === null) return undefined
    const chain = this.known.get(seq)
    if (chain === undefined) {
      // A position this source never saw (another home's, a reload's): only the snapshot can help.
      throw new LogReadError(`no known chain at seq ${seq}: reload from the snapshot`, { seq })
    }
    return { logId: this.info.logId, seq, chain }
  }

  /** One request: a sealed page when far enough behind, else a (long-poll) tail request. */
  private async pull(
    position: LogPosition,
    waitMs: number,
    signal: AbortSignal = this.stop.signal,
  ): Promise<WireFrame[]> {
    const { client } = this.deps
    const info = this.info!
    const page = info.pageCommits
    const sealed = position.seq % page === 0 && position.seq + page <= info.head.seq
    let body: Uint8Array
    if (sealed) {
      const answer = await client.page(info.logId, position.seq / page, signal)
      if (!answer.ok) throw this.answerError(answer)
      body = answer.body
    } else {
      const answer = await client.frames(position, waitMs, this.cursor, signal)
      if (!answer.ok) throw this.answerError(answer)
      this.info = { ...info, head: answer.head }
      this.cursor = answer.cursor
      body = answer.body
    }
    const frames = verifyFrames(splitFrames(body, MAX_FRAME), position)
    if (frames.length > 0) {
      this.deps.loops.reset()
      this.deps.backoff.reset()
      this.lastError = undefined
    }
    return frames
  }

  private answerError(answer: ControlAnswer): Error {
    const error = new Error(`${answer.code}: ${answer.message}`) as Error & { answer: ControlAnswer }
    error.answer = answer
    return error
  }

  /**
   * Runs `step`, retrying transient failures with backoff. A reset answer becomes LOG_NEED_SNAPSHOT (followDb
   * reloads); the same answer at the same position too often becomes REPLICATION_LOOP.
   */
  private async retrying<T>(step: () => Promise<T>, signal: AbortSignal = this.stop.signal): Promise<T> {
    for (;;) {
      try {
        return await step()
      } catch (error) {
        if (signal.aborted || this.stop.signal.aborted) throw error
        const answer = (error as { answer?: ControlAnswer }).answer
        const code = (error as { code?: string }).code
        this.lastError = error as Error
        if (code === 'LOG_NEED_SNAPSHOT' || code === 'REPLICATION_LOOP' || code === 'REPLICATION_UNKNOWN_USER')
          throw error
        if (code === 'REPLICATION_AUTH' && !this.deps.client.renewable) {
          this.fire('fatal')
          throw error
        }
        // The user moved (the client points at the new home now): ask again at once, from the same position.
        if (answer?.code === 'moved') continue
        // A move holds the user a moment: again after the home's hint, without growing the backoff.
        if (answer?.code === 'busy') {
          await this.deps.clock.sleep(answer.retryAfterMs ?? 25, signal)
          continue
        }
        // A damaged or malformed answer is retried like a refusal: the same one again and again is a loop. A busy
        // home (429, 503) and a dropped connection are not loops: they are retried for as long as they last.
        const busy = answer !== undefined && (answer.status === 429 || answer.status === 503)
        const what = busy
          ? 'busy'
          : (answer?.code ??
            (code === 'REPLICATION_PROTOCOL' ? 'protocol' : code === 'REPLICATION_AUTH' ? 'unauthorized' : 'network'))
        const transient = what === 'network' || what === 'busy'
        const verdict = this.deps.loops.see(what, this.delivered?.seq ?? 0)
        if (verdict === 'loop' && code === 'REPLICATION_AUTH') {
          this.fire('fatal')
          throw error
        }
        if (verdict === 'loop' && !transient) {
          this.fire('fatal')
          throw new ReplicationStoppedError('REPLICATION_LOOP', `the home answered ${what} too many times`, {
            answer: what,
            seq: this.delivered?.seq ?? 0,
            cause: (error as Error).message,
          })
        }
        if (answer !== undefined && RESET_CODES.has(answer.code)) {
          this.fire('reset')
          if (verdict === 'ok') throw new LogReadError(`the home answered ${answer.code}`, {})
        }
        this.fire('net-error')
        let delay = Math.max(this.deps.backoff.next(), answer?.retryAfterMs ?? 0)
        if (verdict === 'slow-down' && !transient) delay = Math.max(delay, this.deps.loops.escalation())
        await this.deps.clock.sleep(delay, signal)
        this.fire('retry')
        if (answer !== undefined && RESET_CODES.has(answer.code)) {
          throw new LogReadError(`the home answered ${answer.code}`, {})
        }
      }
    }
  }

  /** Tells the home how far this replica got (its slot), at most every `confirmIntervalMs`. */
  private async confirm(): Promise<void> {
    const now = this.deps.clock.now()
    const at = this.delivered
    if (at === undefined || now - this.lastConfirm < this.deps.confirmIntervalMs) return
    this.lastConfirm = now
    await this.deps.client.confirmSlot(this.slot, at, this.stop.signal).catch(() => undefined)
  }

  /** The position handed on last (for tests and status). */
  get position(): Position | undefined {
    return this.delivered
  }

  async close(): Promise<void> {
    if (this.stop.signal.aborted) return
    this.stop.abort()
    this.fire('close')
    await this.deps.client.dropSlot(this.slot).catch(() => undefined)
  }

  fail(error: unknown): void {
    this.lastError = error as Error
    this.fire('fatal')
  }
}
