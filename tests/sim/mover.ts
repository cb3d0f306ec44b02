// Moves in the simulation: each one is a mover process running the real `moveUser` over the simulated network with
// its own virtual clock, with a seeded lease, switch timeout and freeze lag. Killing it mid-move abandons its promise
// and its requests (the homes' leases and reconciliation must settle the user). Every move that is not abandoned must
// settle with a result or a MoveError saying it aborted (nothing changed) or that its outcome is unknown (the homes
// settle it through the directory).
import { type Directory, MoveError, moveUser } from '@homedb/replication'
import { blindSwitchDirectory } from './variants.js'
import { ADMIN_TOKEN, DIRECTORY_ORIGIN, Incarnation, type SimWorld } from './world.js'

/** How a move ended. */
export type MoveOutcome = 'running' | 'done' | 'aborted' | 'unknown' | 'abandoned'

/** One move and its mover process. */
export class MoveRun {
  outcome: MoveOutcome = 'running'
  readonly life: Incarnation
  /** A rejection that was not a MoveError (the move's contract says it always is). */
  strayError: unknown

  constructor(
    private readonly world: SimWorld,
    readonly id: number,
    readonly user: string,
    readonly to: string,
  ) {
    this.life = new Incarnation(world, `mover-${id}`, 1, 30_000)
  }

  get name(): string {
    return this.life.name
  }

  /** Starts the move. */
  start(): void {
    const rng = this.world.fork()
    const life = this.life
    const directory: string | Directory =
      this.world.variant === 'blind-switch' ? blindSwitchDirectory(life) : DIRECTORY_ORIGIN
    this.world.stats.movesStarted++
    this.world.trace.add(this.name, `move ${this.user} to ${this.to}`)
    let phase = ''
    moveUser({
      directory,
      user: this.user,
      to: this.to,
      adminToken: ADMIN_TOKEN,
      transport: life.transport,
      clock: life.clock,
      random: life.random,
      leaseMs: rng.int(...this.world.config.moveLeaseMs),
      switchTimeoutMs: rng.int(1_000, 10_000),
      freezeLagCommits: rng.int(0, 64),
      copyTimeoutMs: 60_000,
      onProgress: (p) => {
        if (p.phase === phase || !life.alive) return
        phase = p.phase
        this.world.trace.add(this.name, `phase ${p.phase}`)
      },
    }).then(
      (result) => this.settled('done', `moved ${this.user}: homeEpoch ${result.epoch}, froze ${result.freezeMs} ms`),
      (error: unknown) => this.refused(error),
    )
  }

  private refused(error: unknown): void {
    if (!(error instanceof MoveError)) {
      this.strayError = error
      this.settled('aborted', `failed with a ${(error as Error)?.name}: ${(error as Error)?.message}`)
      this.world.checks.violation(
        'every move completes or aborts',
        `${this.name} rejected with ${(error as Error)?.name} (${(error as Error)?.message}), not a MoveError saying what is true now`,
      )
      return
    }
    const outcome = (error.context as { outcome?: string }).outcome === 'unknown' ? 'unknown' : 'aborted'
    this.settled(outcome, `${outcome}: ${error.message}`)
  }

  private settled(outcome: MoveOutcome, what: string): void {
    if (!this.life.alive) return
    this.outcome = outcome
    if (outcome === 'done') this.world.stats.movesDone++
    else if (outcome === 'unknown') this.world.stats.movesUnknown++
    else this.world.stats.movesAborted++
    this.world.trace.add(this.name, what)
    this.life.kill()
  }

  /** The mover dies mid-move. */
  crash(): void {
    if (this.outcome !== 'running') return
    this.life.kill()
    this.outcome = 'abandoned'
    this.world.stats.movesAbandoned++
    this.world.stats.faults['mover-crash']++
    this.world.trace.add(this.name, 'crash (move abandoned)')
  }
}
