// Moves started from the operator page: `moveUser` run by the home itself, with the directory and the transport
// the home already uses, its progress kept for the live view (step, commits copied of the source's, bytes) and
// its end logged. A finished move stays listed for ten minutes (the last twenty at most), so the page can say how
// it ended. The move's own guarantees are moveUser's: before the switch any failure leaves the user where it was.
import type { Clock } from '../clock.js'
import { checkHomeUrl } from '../directory/entry-codec.js'
import type { HomingLink } from '../internal/homing-link.js'
import type { MoveProgress } from '../move-report.js'
import { moveUser } from '../move-user.js'
import type { UiActionLog } from '../operator-ui-options.js'
import type { Random } from '../random.js'

/** A move as the page shows it. */
export interface UiMove {
  readonly user: string
  readonly from: string
  readonly to: string
  /** moveUser's step (`reserving`, `copying`, … `done`, `aborting`). */
  readonly phase: MoveProgress['phase']
  readonly copiedBytes: number
  /** The copy's head seq and the source's, when known. */
  readonly copied: number | null
  readonly sourceHead: number | null
  readonly startedAt: number
  readonly endedAt: number | null
  /** `running`, `done` (the directory names the target), `failed` (see `error`: aborted, or unknown outcome). */
  readonly outcome: 'running' | 'done' | 'failed'
  readonly epoch: number | null
  readonly freezeMs: number | null
  readonly error: string | null
}

/** How long a finished move stays listed, ms; and how many stay at most. */
const KEEP_MS = 10 * 60_000
const KEEP_ENDED = 20

/** Why a move was not started: the status and wire code to answer with. */
export interface MoveRefusal {
  readonly status: number
  readonly code: 'bad-request' | 'conflict' | 'no-user'
  readonly message: string
}

/** What a {@link UiMoves} needs from its home. */
export interface UiMovesDeps {
  readonly clock: Clock
  readonly random: Random
  readonly adminToken: string | undefined
  readonly homing: () => HomingLink | undefined
  readonly log: UiActionLog | undefined
  /** Called at every step and progress report (the live view sends an event soon after). */
  readonly changed: () => void
}

/** The moves this home's page started. */
export class UiMoves {
  private readonly moves: UiMove[] = []

  constructor(private readonly deps: UiMovesDeps) {}

  /** Checks and starts a move of `user` (active here) to `to`; the move, or why it was not started. */
  start(user: string, to: unknown, remote: string | undefined): UiMove | MoveRefusal {
    const homing = this.deps.homing()
    if (homing === undefined || this.deps.adminToken === undefined) {
      return { status: 409, code: 'conflict', message: 'this home has no directory: users move between homes of one' }
    }
    let target: string
    try {
      target = checkHomeUrl(to, 'to')
    } catch (error) {
      return { status: 400, code: 'bad-request', message: (error as Error).message }
    }
    const from = homing.url
    if (from === undefined || target === from) {
      return { status: 400, code: 'bad-request', message: 'the target must be another home' }
    }
    if (this.moves.some((m) => m.user === user && m.outcome === 'running')) {
      return { status: 409, code: 'conflict', message: 'a move of this user is under way' }
    }
    const move = this.track({ user, from, to: target, startedAt: this.deps.clock.now() })
    void this.run(homing, move, remote)
    return move
  }

  /** Moves under way and those that ended in the last ten minutes, newest first. */
  list(): UiMove[] {
    const now = this.deps.clock.now()
    const kept = this.moves.filter((m) => m.endedAt === null || now - m.endedAt < KEEP_MS)
    this.moves.splice(0, this.moves.length, ...kept)
    return [...this.moves].reverse()
  }

  private track(start: Pick<UiMove, 'user' | 'from' | 'to' | 'startedAt'>): UiMove {
    const move: UiMove = {
      ...start,
      phase: 'reserving',
      copiedBytes: 0,
      copied: null,
      sourceHead: null,
      endedAt: null,
      outcome: 'running',
      epoch: null,
      freezeMs: null,
      error: null,
    }
    this.moves.push(move)
    const ended = this.moves.filter((m) => m.outcome !== 'running')
    if (ended.length > KEEP_ENDED) this.moves.splice(this.moves.indexOf(ended[0]!), 1)
    return move
  }

  private update(move: UiMove, change: Partial<UiMove>): UiMove {
    const next = { ...move, ...change }
    const at = this.moves.indexOf(move)
    if (at >= 0) this.moves[at] = next
    this.deps.changed()
    return next
  }

  private async run(homing: HomingLink, first: UiMove, remote: string | undefined): Promise<void> {
    let move = first
    const fields = { user: move.user, from: move.from, to: move.to, remote }
    this.deps.log?.info({ ...fields, action: 'move' }, 'operator page: move started')
    try {
      const result = await moveUser({
        directory: homing.directory,
        user: move.user,
        to: move.to,
        adminToken: this.deps.adminToken!,
        transport: homing.settings.transport,
        clock: this.deps.clock,
        random: this.deps.random,
        onProgress: (p) => {
          move = this.update(move, {
            phase: p.phase,
            copiedBytes: p.copiedBytes,
            ...(p.head === undefined ? {} : { copied: p.head?.seq ?? null }),
            ...(p.sourceHead === undefined ? {} : { sourceHead: p.sourceHead?.seq ?? null }),
          })
        },
      })
      const { epoch, freezeMs, copiedBytes } = result
      move = this.update(move, { phase: 'done', outcome: 'done', endedAt: this.deps.clock.now(), epoch, freezeMs })
      this.deps.log?.info({ ...fields, action: 'move', epoch, freezeMs, copiedBytes }, 'operator page: move done')
    } catch (error) {
      const message = (error as Error).message
      move = this.update(move, { outcome: 'failed', endedAt: this.deps.clock.now(), error: message })
      const context = (error as { context?: unknown }).context
      this.deps.log?.warn({ ...fields, action: 'move', error: message, context }, 'operator page: move failed')
    }
  }
}
