// The steps of a move, in order (PROTOCOL.md, "Moving a user", state table): mark the directory entry `moving`,
// reserve the target (it copies while the source serves), wait until the copy is close, compare schema-less state
// hashes, freeze the source (its answer is the exact head), wait until the copy is exactly there, switch the
// directory with one compare-and-set (homeEpoch + 1), activate the target, tell the source. Before the switch
// every failure undoes what was done (unfreeze, abandon, clear the mark); after it the move happened.
import type { Clock } from '../clock.js'
import type { Directory, DirectoryEntry } from '../directory.js'
import { MoveError } from '../homing-errors.js'
import type { MoveProgress, MoveResult } from '../move-report.js'
import type { LogPosition } from '../position.js'
import type { CopyProgress } from './copy-progress.js'
import type { AdminAnswer, MoveAdminClient } from './move-admin-client.js'

export interface MoverDeps {
  readonly directory: Directory
  readonly admin: MoveAdminClient
  readonly user: string
  readonly to: string
  readonly moveId: string
  readonly leaseMs: number
  readonly switchTimeoutMs: number
  readonly freezeLagCommits: number
  readonly copyTimeoutMs: number
  readonly clock: Clock
  readonly onProgress: (progress: MoveProgress) => void
}

/** Thrown inside the mover to abort at a step (turned into a MoveError after the undo). */
class Abort extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message)
  }
}

function refused<T>(step: string, answer: AdminAnswer<T>): T {
  if (answer.ok) return answer.body
  throw new Abort(step, `${answer.code}: ${answer.message}`)
}

export class Mover {
  private entry!: DirectoryEntry
  private frozen = false
  private reserved = false
  private marked = false
  private copiedBytes = 0

  constructor(private readonly deps: MoverDeps) {}

  private progress(phase: MoveProgress['phase'], copy?: CopyProgress): void {
    if (copy !== undefined) this.copiedBytes = copy.copiedBytes
    this.deps.onProgress({
      phase,
      copiedBytes: this.copiedBytes,
      ...(copy === undefined ? {} : { head: copy.head, sourceHead: copy.sourceHead }),
    })
  }

  async run(): Promise<MoveResult> {
    const { user, to } = this.deps
    const entry = await this.deps.directory.lookup(user).catch((error: unknown) => {
      throw new MoveError(`the directory did not answer the lookup of ${user}: ${(error as Error)?.message}`, {
        step: 'lookup',
        outcome: 'aborted',
        user,
        to,
      })
    })
    if (entry === undefined)
      throw new MoveError(`the directory has no user ${user}`, { step: 'lookup', outcome: 'aborted' })
    if (entry.home === to) {
      throw new MoveError(`${user} already lives at ${to}`, { step: 'lookup', outcome: 'aborted', home: to })
    }
    this.entry = entry
    let head: LogPosition | null
    let frozenAt: number
    try {
      await this.mark()
      await this.copy()
      await this.verify()
      // Hashing a large log takes a while: catch up again so the freeze has only the last few commits to wait for.
      await this.copy()
      frozenAt = this.deps.clock.now()
      head = await this.freeze()
      await this.catchUp(head)
    } catch (error) {
      throw await this.abort(error)
    }
    const epoch = await this.switchDirectory()
    const freezeMs = (await this.activate()) - frozenAt
    await this.deps.admin.moved(entry.home, this.deps.moveId).catch(() => undefined)
    this.progress('done')
    return { epoch, freezeMs, copiedBytes: this.copiedBytes, from: entry.home, to, moveId: this.deps.moveId }
  }

  /** Runs a call whose network failure aborts the move at `step`. */
  private async step<T>(step: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      if (error instanceof Abort || error instanceof MoveError) throw error
      throw new Abort(step, (error as Error)?.message ?? String(error))
    }
  }

  /** Marks the entry `moving` (informational: `homedb status` shows moves in flight). */
  private async mark(): Promise<void> {
    const { directory, user, to, moveId, clock } = this.deps
    const { home, homeEpoch } = this.entry
    const move = { id: moveId, to, startedAt: clock.now() }
    const change = await this.step('mark', () =>
      directory.compareAndSet(user, homeEpoch, { home, homeEpoch, state: 'moving', move }),
    )
    if (!change.ok) throw new Abort('mark', `the entry changed (now homeEpoch ${change.current?.homeEpoch})`)
    this.marked = true
  }

  /** Reserves the target (the first time) and waits until its copy is within `freezeLagCommits` of the source. */
  private async copy(): Promise<void> {
    const { admin, to, moveId, clock } = this.deps
    if (!this.reserved) {
      this.progress('reserving')
      const body = { moveId, from: this.entry.home, as: to, epoch: this.entry.homeEpoch + 1 }
      refused('reserve', await this.step('reserve', () => admin.reserve(to, body)))
      this.reserved = true
    }
    const deadline = clock.now() + this.deps.copyTimeoutMs
    for (;;) {
      const status = refused('copy', await this.step('copy', () => admin.status(to)))
      const copy = status.progress
      if (copy === undefined) throw new Abort('copy', `the target has no copy running (${status.state})`)
      this.progress('copying', copy)
      if (copy.phase === 'failed' || copy.phase === 'stopped') throw new Abort('copy', copy.error ?? copy.phase)
      if (this.closeEnough(copy)) return
      if (clock.now() > deadline) throw new Abort('copy', `the copy did not catch up in ${this.deps.copyTimeoutMs} ms`)
      await clock.sleep(copy.phase === 'live' ? 20 : 200)
    }
  }

  private closeEnough(copy: CopyProgress): boolean {
    if (copy.sourceEmpty && copy.head === null) return true
    if (copy.head === null || copy.sourceHead === null) return false
    return copy.sourceHead.seq - copy.head.seq <= this.deps.freezeLagCommits
  }

  /** Compares schema-less state hashes of the copy and the source at the copy's head (before the freeze). */
  private async verify(): Promise<void> {
    const { admin, to } = this.deps
    this.progress('verifying')
    for (let attempt = 0; attempt < 5; attempt++) {
      const target = await this.step('verify', () => admin.stateHash(to))
      if (!target.ok && target.code === 'no-log') return
      const mine = refused('verify', target)
      const source = await this.step('verify', () => admin.stateHash(this.entry.home, mine.seq))
      if (!source.ok && source.code === 'need-snapshot') {
        await this.deps.clock.sleep(200)
        continue
      }
      const theirs = refused('verify', source)
      if (theirs.logId !== mine.logId || theirs.chain !== mine.chain || theirs.hash !== mine.hash) {
        throw new Abort('verify', `the copy differs at seq ${mine.seq}: hash ${mine.hash}, the source's ${theirs.hash}`)
      }
      return
    }
    throw new Abort('verify', 'the source kept releasing the seq the copy reached')
  }

  /** Freezes the source; its answer is the exact head the copy must reach. */
  private async freeze(): Promise<LogPosition | null> {
    const { admin, moveId, leaseMs } = this.deps
    this.progress('freezing')
    const answer = refused('freeze', await this.step('freeze', () => admin.freeze(this.entry.home, moveId, leaseMs)))
    this.frozen = true
    if (answer.epoch !== this.entry.homeEpoch) {
      throw new Abort(
        'freeze',
        `the source serves homeEpoch ${answer.epoch}, the directory said ${this.entry.homeEpoch}`,
      )
    }
    return answer.head
  }

  /** Waits until the copy is exactly at the frozen head (seq and chain). */
  private async catchUp(head: LogPosition | null): Promise<void> {
    const { admin, to, moveId, leaseMs } = this.deps
    this.progress('catching-up')
    const answer = refused('catch-up', await this.step('catch-up', () => admin.wait(to, moveId, head, leaseMs / 2)))
    this.progress('catching-up', answer.progress)
    if (answer.verdict !== 'reached') {
      throw new Abort('catch-up', `the copy did not reach the source's head (${answer.verdict})`)
    }
  }

  /** The one write that decides: homeEpoch + 1 naming the target. Returns the new epoch. */
  private async switchDirectory(): Promise<number> {
    const { directory, user, to, clock } = this.deps
    const epoch = this.entry.homeEpoch + 1
    this.progress('switching')
    const deadline = clock.now() + this.deps.switchTimeoutMs
    let lastError: unknown
    while (clock.now() < deadline) {
      try {
        const change = await directory.compareAndSet(user, this.entry.homeEpoch, {
          home: to,
          homeEpoch: epoch,
          state: 'active',
        })
        if (change.ok) return epoch
        const current = change.current
        if (current?.home === to && current.homeEpoch === epoch) return epoch
        throw await this.abort(
          new Abort('switch', `the directory moved on (homeEpoch ${current?.homeEpoch} at ${current?.home})`),
        )
      } catch (error) {
        if (error instanceof MoveError) throw error
        lastError = error
        await clock.sleep(100)
      }
    }
    throw new MoveError(`the directory did not answer the switch of ${user}: the source's lease will settle it`, {
      step: 'switch',
      outcome: 'unknown',
      cause: (lastError as Error)?.message,
    })
  }

  /**
   * After the switch: the target activates (then the source is told it moved). Each settles by itself through the
   * directory if this fails. Returns when the target serves the user.
   */
  private async activate(): Promise<number> {
    const { admin, to, moveId } = this.deps
    this.progress('activating')
    await admin.activate(to, moveId).catch(() => undefined)
    return this.deps.clock.now()
  }

  /** Undoes what the move did before the switch, then returns the error to throw. */
  private async abort(error: unknown): Promise<MoveError> {
    const { admin, directory, user, to, moveId } = this.deps
    this.progress('aborting')
    if (this.frozen) await admin.unfreeze(this.entry.home, moveId).catch(() => undefined)
    if (this.reserved) await admin.abandon(to, moveId).catch(() => undefined)
    if (this.marked) {
      const { home, homeEpoch } = this.entry
      const now = await directory.lookup(user).catch(() => undefined)
      if (now?.state === 'moving' && now.move?.id === moveId) {
        await directory.compareAndSet(user, homeEpoch, { home, homeEpoch, state: 'active' }).catch(() => undefined)
      }
    }
    if (error instanceof MoveError) return error
    const step = error instanceof Abort ? error.step : 'unknown'
    return new MoveError(`moving ${user} to ${to} failed at ${step}: ${(error as Error)?.message}`, {
      step,
      outcome: 'aborted',
      user,
      to,
    })
  }
}
