// The target's side of a move while the user is reserved here: a copy job that reads the user's log from the source
// home with the admin token (its latest snapshot, then every commit after it, then the live tail, like a replica;
// from the source's newest snapshot again if the source released the commits it needed next)
// and appends it byte for byte to a new log generation here, each batch verified (CRC, seq, chain), fsynced and
// recorded as the copy's durable head before the job reports it. The mover watches its progress, waits for it to
// reach the source's frozen head exactly, and compares state hashes; nothing here is served to users until the
// directory names this home, and from then on every commit copied is served (the durable head the home reads from
// is the copy's, never the head its log had when it was created).
import type { Log } from '@homedb/log'
import { Xxh64 } from '@node-rs/xxhash'
import type { LogPosition } from '../position.js'
import { Backoff, DEFAULT_RETRY } from './backoff.js'
import { decodeChunks } from './chunk-stream.js'
import type { CopyProgress, CopyVerdict } from './copy-progress.js'
import { splitFrames, verifyFrames } from './frames.js'
import type { ControlAnswer, HomeClient, LogInfo } from './home-client.js'
import { type HomeContext, markDurable } from './home-context.js'
import type { LogLease } from './log-cache.js'
import type { StoredSnapshot } from './meta-store.js'
import { snapshotEtag } from './snapshot-record.js'
import { emptyDir } from './user-transitions.js'

export interface CopyJobOptions {
  readonly user: string
  readonly moveId: string
  /** The log generation directory the copy is written to (created by the job). */
  readonly dir: string
  /** Reads the source (admin token). */
  readonly client: HomeClient
  /** Long-poll wait at the source's head, ms. */
  readonly waitMs: number
}

const MAX_BODY = 1024 * 1024 * 1024

/** Runs from `start()` until `stop()`; survives dropped connections (backoff) and fails only on a wrong answer. */
export class CopyJob {
  private phase: CopyProgress['phase'] = 'starting'
  private lease: LogLease | undefined
  private sourceHead: LogPosition | null = null
  private copiedBytes = 0
  private error: string | undefined
  private sourceEmpty = false
  private cursor = ''
  private readonly stopper = new AbortController()
  private readonly listeners = new Set<() => void>()
  private loop: Promise<void> | undefined
  /** When a mover last asked about this copy (its status, a wait): a copy nobody asks about is orphaned. */
  lastAsked: number
  /** Set once a wait answered `reached`: from then on a mover may switch the directory to this copy. */
  reached = false
  /** Wakes the job when it waits for the source's first commit. */
  private nap: AbortController | undefined
  /** The snapshot installed as the copy's base (the target's record names it once active). */
  snapshot: StoredSnapshot | null = null

  constructor(
    private readonly ctx: HomeContext,
    private readonly options: CopyJobOptions,
  ) {
    this.lastAsked = ctx.clock.now()
  }

  start(): void {
    this.loop = this.run()
  }

  get log(): Log | undefined {
    return this.lease?.log
  }

  progress(): CopyProgress {
    return {
      moveId: this.options.moveId,
      phase: this.phase,
      head: this.head(),
      sourceHead: this.sourceHead,
      copiedBytes: this.copiedBytes,
      sourceEmpty: this.sourceEmpty,
      ...(this.error === undefined ? {} : { error: this.error }),
    }
  }

  private head(): LogPosition | null {
    const log = this.lease?.log
    return log === undefined ? null : { logId: log.logId, seq: log.head.seq, chain: log.head.chain }
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener()
  }

  /**
   * How the copy stands against `position` (null: the source has no log) once it settles, or after `timeoutMs`.
   * The caller marks it {@link reached} once it told a mover so.
   */
  async waitFor(position: LogPosition | null, timeoutMs: number): Promise<CopyVerdict> {
    this.lastAsked = this.ctx.clock.now()
    const verdict = await this.settle(position, timeoutMs)
    this.lastAsked = this.ctx.clock.now()
    return verdict
  }

  private async settle(position: LogPosition | null, timeoutMs: number): Promise<CopyVerdict> {
    const verdict = (): CopyVerdict | undefined => {
      if (this.phase === 'failed' || this.phase === 'stopped') return 'failed'
      const head = this.head()
      if (position === null) return head === null && this.sourceEmpty ? 'reached' : undefined
      if (head === null) return undefined
      if (head.logId !== position.logId || head.seq > position.seq) return 'diverged'
      if (head.seq === position.seq) return head.chain === position.chain ? 'reached' : 'diverged'
      return undefined
    }
    const now = verdict()
    if (now !== undefined) return now
    this.nap?.abort()
    return new Promise((resolve) => {
      const stop = new AbortController()
      const check = () => {
        const v = verdict()
        if (v === undefined) return
        finish(v)
      }
      const finish = (v: CopyVerdict) => {
        this.listeners.delete(check)
        stop.abort()
        resolve(v)
      }
      this.listeners.add(check)
      void this.ctx.clock.sleep(timeoutMs, stop.signal).then(() => {
        if (!stop.signal.aborted) finish(verdict() ?? 'behind')
      })
    })
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ ...DEFAULT_RETRY, maxMs: 1_000 }, this.ctx.random)
    const signal = this.stopper.signal
    while (!signal.aborted) {
      try {
        const progressed = this.lease === undefined ? await this.init() : await this.pull()
        if (progressed) backoff.reset()
      } catch (error) {
        if (signal.aborted) break
        const failure = this.lease?.log.failure
        if (failure !== undefined) {
          // The copy's log failed (fail-stop): it is not opened again in this process, and this copy is over.
          this.ctx.cache.fail(this.options.user, failure)
          this.fail(`the copy could not be written here: ${failure.message}`)
          return
        }
        if ((error as { fatal?: boolean }).fatal) {
          this.fail((error as Error).message)
          return
        }
        this.error = (error as Error)?.message
        await this.ctx.clock.sleep(backoff.next(), signal)
      }
    }
  }

  private fail(message: string): void {
    this.phase = 'failed'
    this.error = message
    this.changed()
  }

  private refusal(answer: ControlAnswer): Error {
    // `gone`: the writer replaced the snapshot while it was being copied; the copy starts over from the new one.
    const fatal = !['busy', 'unavailable', 'internal', 'gone'].includes(answer.code) && answer.status < 500
    return Object.assign(new Error(`the source answered ${answer.code}: ${answer.message}`), { fatal })
  }

  /** Reads the source's log info and creates the copy at its snapshot (installed here) or its start. */
  private async init(): Promise<boolean> {
    const info = await this.options.client.info(this.stopper.signal)
    if ('ok' in info) throw this.refusal(info)
    if (info.log === null) {
      this.sourceEmpty = true
      this.changed()
      // No log there yet (the writer never shipped): look again soon, or at once when the mover waits for one.
      this.nap = new AbortController()
      await this.ctx.clock.sleep(this.options.waitMs, AbortSignal.any([this.stopper.signal, this.nap.signal]))
      return false
    }
    this.sourceEmpty = false
    this.sourceHead = info.log.head
    const base = info.log.snapshot ?? info.log.start
    const lease = await this.ctx.cache.acquire(this.options.user, this.options.dir, {
      logId: info.log.logId,
      start: { seq: base.seq, chain: base.chain },
    })
    if (lease === undefined) throw new Error(`the copy's log could not be created in ${this.options.dir}`)
    this.lease = lease
    this.phase = 'copying'
    if (info.log.snapshot !== null && lease.log.head.seq === base.seq && lease.log.start.seq === base.seq) {
      await this.installSnapshot(lease.log, info.log).catch(async (error: unknown) => {
        await this.startOver()
        throw error
      })
    }
    this.changed()
    return true
  }

  /**
   * The snapshot could not be copied (a dropped connection, a snapshot the writer replaced meanwhile): the copy's log,
   * which starts at that snapshot's seq without it, is emptied, and the next round copies from the log info again.
   */
  private async startOver(): Promise<void> {
    this.lease?.release()
    this.lease = undefined
    this.phase = 'starting'
    await this.ctx.cache.drop(this.options.user)
    await emptyDir(this.ctx, this.options.dir)
  }

  private async installSnapshot(log: Log, info: NonNullable<LogInfo['log']>): Promise<void> {
    const snap = info.snapshot!
    const answer = await this.options.client.snapshot(info.logId, snap.seq, this.stopper.signal)
    if (!answer.ok) throw this.refusal(answer)
    const hash = new Xxh64()
    let bytes = 0
    const counted = async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        hash.update(chunk)
        bytes += chunk.byteLength
        yield chunk
      }
    }
    await log.snapshot(counted(decodeChunks(answer.body, MAX_BODY)), snap.seq)
    const etag = snapshotEtag(hash, bytes)
    if (etag !== snap.etag) {
      throw Object.assign(
        new Error(`the snapshot copied at seq ${snap.seq} hashes to ${etag}, the source says ${snap.etag}`),
        {
          fatal: true,
        },
      )
    }
    this.copiedBytes += bytes
    this.snapshot = { logId: info.logId, seq: snap.seq, chain: snap.chain, bytes, etag }
    // Kept in the reservation's record too, so a target that restarts before it activates still names it.
    await this.ctx.meta.updateUser(this.options.user, { snapshot: this.snapshot })
  }

  /** One tail request at the source from the copy's head; appends and fsyncs what it brings. */
  private async pull(): Promise<boolean> {
    const log = this.lease!.log
    const head = { logId: log.logId, seq: log.head.seq, chain: log.head.chain }
    const answer = await this.options.client.frames(head, this.options.waitMs, this.cursor, this.stopper.signal)
    if (!answer.ok && answer.code === 'need-snapshot' && !this.reached) {
      // The writer shipped a newer snapshot and the source released the commits after the copy's head: copy again
      // from that snapshot (like `gone` while installing one). Not once a mover heard `reached`: it may switch.
      await this.startOver()
      throw new Error(`the source answered need-snapshot: ${answer.message}; copying again from its newest snapshot`)
    }
    if (!answer.ok) throw this.refusal(answer)
    this.cursor = answer.cursor
    this.sourceHead = answer.head
    const frames = verifyFrames(splitFrames(answer.body, MAX_BODY), head)
    if (frames.length > 0) {
      log.appendEncoded(frames.map((f) => f.frame))
      await log.sync()
      // Durable here now: the head the home serves from (the activation's record may be seen before it is stored).
      markDurable(this.ctx, this.options.user, log)
      this.copiedBytes += answer.body.byteLength
    }
    if (log.head.seq >= answer.head.seq) this.phase = 'live'
    this.changed()
    return frames.length > 0
  }

  /** Stops copying and releases the copy's log (its files stay until the reservation is dropped). */
  async stop(): Promise<void> {
    if (!this.stopper.signal.aborted) {
      this.stopper.abort()
      if (this.phase !== 'failed') this.phase = 'stopped'
      this.changed()
    }
    await this.loop
    this.lease?.release()
    this.lease = undefined
  }
}
