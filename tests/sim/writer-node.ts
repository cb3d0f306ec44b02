// A writer in the simulation: the app machine holding one user's db (real @homedb/tables over its simulated disk,
// 'fsync' durability) that commits seeded transactions while the faults last, compacts now and then, and ships its
// log to the user's home with the real `ship` (found through the directory, over the simulated network). Every
// commit whose durability promise resolved is a claim the checks hold it to after each crash. A machine that takes
// over a user (the old one was lost, or is still running: then one of the two forks and stops `diverged`) restores
// the home's copy first with the real `homeSource`.
import type { FileLayer } from '@homedb/log'
import { homeSource, type Shipper, ship } from '@homedb/replication'
import { logOf, openDb } from '@homedb/tables'
import type { Rng } from '@homedb/testkit'
import { Machine } from './machine.js'
import { randomTransaction, type SimDb, SimSchema } from './workload.js'
import type { Incarnation, SimWorld } from './world.js'

/** The writer machine of one user. */
export class WriterNode extends Machine {
  db: SimDb | undefined
  shipper: Shipper | undefined
  /** The id the writer's log was created with (seeded, so traces replay). */
  readonly logId: string
  private readonly rng: Rng

  /**
   * @param name the machine's name (`writer-<user>`, or `writer-<user>-<n>` for the machines that replaced it)
   * @param bootstrap a new machine that takes over the user: it restores the home's copy before it writes
   */
  constructor(
    world: SimWorld,
    readonly user: string,
    name = `writer-${user}`,
    private readonly bootstrap = false,
  ) {
    super(world, name, 'writer', 30_000)
    this.rng = world.fork()
    this.logId = Buffer.from(this.rng.bytes(16)).toString('hex')
  }

  protected async open(life: Incarnation, layer: FileLayer, root: string): Promise<void> {
    const source = homeSource(this.world.clientOptions(this.user, life))
    const db = await openDb(SimSchema, {
      dir: `${root}/db`,
      fileLayer: layer,
      durability: 'fsync',
      segmentBytes: 2048,
      ...(this.bootstrap ? { bootstrap: source } : { create: { logId: this.logId } }),
    })
    if (!life.alive) return
    await this.recovered(db)
    const shipper = ship(db, this.world.clientOptions(this.user, life))
    shipper.onNotice((notice) => {
      if (notice.type === 'state' && life.alive)
        this.world.trace.add(this.name, `shipper ${notice.from} → ${notice.to}`)
    })
    this.db = db
    this.shipper = shipper
    void this.workload(life, db)
  }

  protected down(): void {
    this.db = undefined
    this.shipper = undefined
  }

  /** Checks the recovered log keeps every acknowledged commit, and registers the frames it holds. */
  private async recovered(db: SimDb): Promise<void> {
    const view = logOf(db)
    this.world.checks.writerRecovered(this.name, { logId: view.logId, ...view.head })
    for await (const c of view.readEncoded({ from: view.start.seq })) {
      this.world.checks.writerHolds(this.name, { logId: view.logId, seq: c.seq, chain: c.chain })
    }
  }

  /** Commits while the faults last, one transaction every `commitEveryMs` on average. */
  private async workload(life: Incarnation, db: SimDb): Promise<void> {
    const mean = this.world.config.commitEveryMs
    while (life.alive && this.world.faulty) {
      await life.clock.sleep(this.rng.int(1, 2 * mean))
      if (!life.alive || !this.world.faulty) return
      this.commit(life, db)
      if (this.rng.chance(0.02)) {
        this.world.trace.add(this.name, 'compact')
        db.compact().catch(() => undefined)
      }
    }
  }

  private commit(life: Incarnation, db: SimDb): void {
    const view = logOf(db)
    const before = view.head.seq
    const durable = randomTransaction(db, this.rng, this.world.scheduler.now)
    const head = view.head
    if (head.seq === before) {
      durable.catch(() => undefined)
      return
    }
    this.world.stats.commits++
    const claim = { logId: view.logId, seq: head.seq, chain: head.chain }
    durable.then(
      () => {
        if (!life.alive) return
        this.world.stats.commitsAcked++
        this.world.checks.writerDurable(this.name, claim)
      },
      () => undefined,
    )
  }
}
