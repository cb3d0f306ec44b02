// The simulated deployment: the directory, the homes, one writer and some replicas per user, the movers and the
// operator; how it is set up (users added to homes, round robin), polled at quiescent points, healed when the faults
// stop, and judged: `converged()` lists everything that still keeps it from the state the liveness check wants
// (every commit at the user's home and on every replica, one home per user, every move settled).
import { GENESIS } from '@homedb/log'
import { logOf } from '@homedb/tables'
import { DirectoryNode } from './directory-node.js'
import { HomeNode } from './home-node.js'
import type { Machine } from './machine.js'
import type { MoveRun } from './mover.js'
import { CALM_NETWORK } from './network.js'
import { Operator } from './operator.js'
import { ReplicaNode } from './replica-node.js'
import type { SimWorld } from './world.js'
import { WriterNode } from './writer-node.js'

const USERS = ['alice', 'bob', 'carol']
const HOMES = ['home-a', 'home-b', 'home-c']
const TERMINAL = new Set(['diverged', 'incompatible', 'failed', 'closed'])

/** Everything that runs in one simulation. */
export class Deployment {
  readonly directory: DirectoryNode
  readonly homes: HomeNode[]
  readonly users: string[]
  readonly writers: WriterNode[]
  readonly replicas: ReplicaNode[] = []
  readonly moves: MoveRun[] = []
  readonly operator: Operator

  constructor(private readonly world: SimWorld) {
    const { config } = world
    this.directory = new DirectoryNode(world)
    this.homes = HOMES.slice(0, config.homes).map((name) => new HomeNode(world, name))
    this.users = USERS.slice(0, config.users)
    this.writers = this.users.map((user) => new WriterNode(world, user))
    for (const user of this.users) {
      for (let i = 1; i <= config.replicasPerUser; i++)
        this.replicas.push(new ReplicaNode(world, user, `replica-${user}-${i}`))
    }
    this.operator = new Operator(world)
  }

  /** Every machine with a disk (but those lost for good). */
  machines(): Machine[] {
    return [this.directory, ...this.homes, ...this.writers.filter((w) => !w.retired)]
  }

  /** The newest writer machine of `user` that is not lost. */
  writerOf(user: string): WriterNode | undefined {
    return this.writers.filter((w) => w.user === user && !w.retired).at(-1)
  }

  /** Names of every process a partition can cut off. */
  processNames(): string[] {
    const movers = this.moves.filter((m) => m.outcome === 'running').map((m) => m.name)
    return [...this.machines().map((m) => m.name), ...this.replicas.map((r) => r.name), ...movers]
  }

  /** Starts the directory and the homes, adds each user to a home, starts writers and replicas. */
  async setup(): Promise<void> {
    await this.directory.start()
    for (const home of this.homes) await home.start()
    for (const [i, user] of this.users.entries()) {
      const token = `tok-${user}-0-${Buffer.from(this.world.fork().bytes(8)).toString('hex')}`
      this.world.tokens.set(user, token)
      const home = this.homes[i % this.homes.length]!
      if (home.service === undefined) throw new Error(`${home.name} did not start during the setup`)
      await home.service.addUser(user, { token })
    }
    for (const writer of this.writers) await writer.start()
    for (const replica of this.replicas) void replica.start()
  }

  /** At every quiescent point: machines deal with crashes and disk errors that fired; one active home per epoch. */
  poll(): void {
    for (const machine of this.machines()) machine.poll()
    this.oneActiveHomePerEpoch()
  }

  /** No two homes hold a user `active` under the same homeEpoch (both would accept its writes). */
  private oneActiveHomePerEpoch(): void {
    const active = new Map<string, string>()
    for (const home of this.homes) {
      for (const user of home.service?.users() ?? []) {
        if (user.state !== 'active') continue
        const key = `${user.name}@${user.epoch}`
        const other = active.get(key)
        if (other === undefined) active.set(key, home.name)
        else {
          this.world.checks.violation(
            'one home per epoch',
            `${other} and ${home.name} both serve ${user.name} (active) under homeEpoch ${user.epoch}`,
          )
        }
      }
    }
  }

  /** The faults stop: a calm network without partitions, nothing armed on any disk. */
  heal(): void {
    this.world.network.faults = CALM_NETWORK
    this.world.network.heal()
    for (const machine of this.machines()) machine.heal()
    this.world.trace.add('run', 'faults stop: the network heals, nothing more is injected')
  }

  /** What still keeps the deployment from having converged (empty once it has). */
  async converged(): Promise<string[]> {
    const reasons: string[] = []
    for (const machine of this.machines()) if (!machine.up) reasons.push(`${machine.name} is down`)
    for (const move of this.moves) if (move.outcome === 'running') reasons.push(`${move.name} still runs`)
    for (const replica of this.replicas) {
      if (replica.stopped !== undefined) reasons.push(`${replica.name} stopped: ${(replica.stopped as Error).message}`)
    }
    if (reasons.length > 0) return reasons
    for (const user of this.users) reasons.push(...(await this.userConverged(user)))
    return reasons
  }

  private async userConverged(user: string): Promise<string[]> {
    const entry = await this.directory.entry(user)
    const home = this.homes.find((h) => h.origin === entry?.home)
    if (entry === undefined || home === undefined) return [`the directory names no home for ${user}`]
    const reasons = this.homeStates(user, home, entry.homeEpoch)
    const held = await home.head(user)
    if (held === undefined || held === null) return [...reasons, `${home.name} serves no log of ${user}`]
    let lineage: WriterNode | undefined
    for (const writer of this.writers.filter((w) => w.user === user && !w.retired)) {
      const verdict = this.writerSettled(writer, held)
      if (verdict === 'lineage') lineage ??= writer
      else if (verdict !== 'stale') reasons.push(verdict)
    }
    if (lineage === undefined) reasons.push(`no writer of ${user} is at ${home.name}'s head ${held.seq}:${held.chain}`)
    for (const replica of this.replicas.filter((r) => r.user === user)) {
      const at = replica.position()
      if (at?.seq !== held.seq || at.chain !== held.chain || at.logId !== held.logId) {
        reasons.push(`${replica.name} is at ${at?.seq}:${at?.chain}, ${home.name} at ${held.seq}:${held.chain}`)
      } else if (lineage?.db !== undefined && replica.db!.stateHash() !== lineage.db.stateHash()) {
        this.world.checks.violation(
          'replicas converge',
          `${replica.name} is at ${lineage.name}'s (seq, chain) ${held.seq}:${held.chain} with stateHash ${replica.db!.stateHash()}, the writer's is ${lineage.db.stateHash()}`,
        )
      }
    }
    return reasons
  }

  /**
   * Where a writer machine stands against the home's head: `lineage` (at the head, everything acknowledged),
   * `stale` (a machine another one took over from: stopped `diverged` with its frames kept, or a prefix of the home's
   * history with nothing to ship), or what keeps it from either.
   */
  private writerSettled(writer: WriterNode, held: { logId: string; seq: number; chain: string }): string {
    const { db, shipper } = writer
    if (db === undefined || shipper === undefined) return `${writer.name} has no db`
    const status = shipper.status
    const head = { logId: logOf(db).logId, ...logOf(db).head }
    if (status.state === 'diverged') return 'stale'
    if (TERMINAL.has(status.state)) return `${writer.name}'s shipper is ${status.state}: ${status.lastError?.message}`
    if (status.ackedSeq !== head.seq)
      return `${writer.name}: the home acknowledged seq ${status.ackedSeq} of ${head.seq}`
    if (head.logId !== held.logId) return `${writer.name} writes log ${head.logId}, the home holds ${held.logId}`
    if (head.seq === held.seq && head.chain === held.chain) return 'lineage'
    if (head.seq < held.seq && this.chainAt(held.logId, head.seq) === head.chain) return 'stale'
    return `${writer.name} is at ${head.seq}:${head.chain}, the home at ${held.seq}:${held.chain}`
  }

  /**
   * The chain after `seq` in the history the homes accepted; at seq 0 the log's genesis (a writer machine that
   * restored an empty log and wrote nothing is a prefix of every history of that log: long seed 110161).
   */
  private chainAt(logId: string, seq: number): string | undefined {
    return seq === GENESIS.seq ? GENESIS.chain : this.world.checks.chainAt(logId, seq)
  }

  /** `home` serves `user` at `epoch`; no other home serves it or holds it frozen. */
  private homeStates(user: string, home: HomeNode, epoch: number): string[] {
    const reasons: string[] = []
    for (const h of this.homes) {
      const state = h.service?.users().find((u) => u.name === user)
      if (h === home && (state?.state !== 'active' || state.epoch !== epoch)) {
        reasons.push(
          `${h.name} is the directory's home of ${user} @${epoch} but holds it ${state?.state} @${state?.epoch}`,
        )
      } else if (h !== home && (state?.state === 'active' || state?.state === 'frozen')) {
        reasons.push(`${h.name} holds ${user} ${state.state} @${state.epoch} though the directory names ${home.name}`)
      }
    }
    return reasons
  }
}
