// A replica in the simulation: the real `openReplica` (in memory, as a read-only app would hold it), finding the
// user's home through the directory over the simulated network and tailing it with the run's virtual clock. Its
// process can die (its requests and waits just stop) and start again from nothing; a start that fails is retried.
import { openReplica, replicaStatus } from '@homedb/replication'
import type { SimTimer } from './scheduler.js'
import type { SimDb } from './workload.js'
import { SimSchema } from './workload.js'
import { Incarnation, type SimWorld } from './world.js'

/** One replica of one user. */
export class ReplicaNode {
  db: SimDb | undefined
  life: Incarnation | undefined
  boot = 0
  /** The error that stopped the replica for good, if one did. */
  stopped: unknown
  /** The start scheduled, if one is pending. */
  private pending: SimTimer | undefined

  constructor(
    private readonly world: SimWorld,
    readonly user: string,
    readonly name: string,
  ) {}

  /** Opens the replica (again); a failed open is retried a second later. */
  async start(): Promise<void> {
    this.pending?.cancel()
    this.pending = undefined
    this.life?.kill()
    const life = new Incarnation(this.world, this.name, ++this.boot, 30_000)
    this.life = life
    this.stopped = undefined
    try {
      const db = await openReplica(SimSchema, {
        ...this.world.clientOptions(this.user, life),
        waitMs: 2_000,
        confirmIntervalMs: 500,
        onError: (error) => {
          if (!life.alive) return
          this.stopped = error
          this.world.trace.add(this.name, `stopped: ${(error as Error)?.message}`)
        },
      })
      if (!life.alive) return
      this.db = db
      this.world.trace.add(this.name, `up at seq ${db.seq}`)
    } catch (error) {
      if (!life.alive) return
      this.world.trace.add(this.name, `did not open: ${(error as Error).message.slice(0, 120)}`)
      life.kill()
      this.startIn(1_000)
    }
  }

  /** Starts again in `ms`: one start pending at a time. */
  private startIn(ms: number): void {
    this.pending?.cancel()
    this.pending = this.world.scheduler.task(this.world.scheduler.now + ms, () => this.start())
  }

  /** The process dies; it starts again after a seeded downtime. */
  crash(): void {
    this.life?.kill()
    this.db = undefined
    this.world.stats.faults['replica-crash']++
    this.world.trace.add(this.name, 'crash')
    this.startIn(this.world.fork().int(100, 3_000))
  }

  /** Where the replica is (null before its first load, undefined while it is down). */
  position(): { logId: string; seq: number; chain: string } | null | undefined {
    if (this.db === undefined) return undefined
    return replicaStatus(this.db).position
  }
}
