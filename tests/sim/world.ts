// What every part of a simulation run shares: the seed's generators, virtual time, the network, the trace, the
// counters, the invariant checks, the users' current tokens, the broken variant (if any), and incarnations of
// processes (a clock, a transport and a random source that die together).
import type { ClientOptions, Random, Transport } from '@homedb/replication'
import type { Rng } from '@homedb/testkit'
import { Invariants } from './invariants.js'
import { type NetworkObserver, SimNetwork } from './network.js'
import { type ProcessClock, SimScheduler } from './scheduler.js'
import type { SimConfig } from './sim-config.js'
import { emptySimStats, type SimStats } from './sim-stats.js'
import { SimTrace } from './trace.js'

/** The deployment's admin token (homes, directory, movers, the operator). */
export const ADMIN_TOKEN = 'sim-admin-token-0123456789abcdef'
/** Most requests one process may send in any simulated second ("clients never spin"). */
export const SPIN_LIMIT = 150
/** Where the directory answers. */
export const DIRECTORY_ORIGIN = 'http://directory.sim'

/** The URL a process named `name` serves at. */
export function originOf(name: string): string {
  return `http://${name}.sim`
}

/** The deliberately broken variants a run can be built with (see variants.ts); `none` is the real system. */
export type VariantName = 'none' | 'lying-disk' | 'blind-switch' | 'forging-network'

let runs = 0

/** The Random of the replication package over the seed's generator. */
export function randomOf(rng: Rng): Random {
  return { next: () => rng.next(), bytes: (length) => rng.bytes(length) }
}

/** One life of a process: dies with `kill()` (its waits never end, its requests never settle). */
export class Incarnation {
  readonly clock: ProcessClock
  readonly transport: Transport
  readonly random: Random

  constructor(
    world: SimWorld,
    readonly name: string,
    readonly boot: number,
    timeoutMs: number,
  ) {
    this.clock = world.scheduler.clock(`${name}#${boot}`, () => world.pausedUntil(name))
    this.transport = world.network.transport(name, this.clock, timeoutMs)
    this.random = randomOf(world.fork())
  }

  get alive(): boolean {
    return this.clock.alive
  }

  kill(): void {
    this.clock.kill()
  }
}

/**
 * The shared state of one run.
 *
 * @example
 * ```ts
 * const world = new SimWorld(seededRng(seed), config, 'none')
 * const life = new Incarnation(world, 'writer-alice', 1, 30_000)
 * ```
 */
export class SimWorld {
  readonly scheduler = new SimScheduler()
  readonly trace = new SimTrace(() => this.scheduler.now)
  readonly stats: SimStats = emptySimStats()
  readonly network: SimNetwork
  readonly checks: Invariants
  /** Each user's token as the operator last set it (clients ask for it after a `401`). */
  readonly tokens = new Map<string, string>()
  /**
   * What every client of `user`'s home in incarnation `life` is given: the directory, the user's current token
   * (asked again after a `401`), and the incarnation's transport, clock and randomness.
   */
  clientOptions(user: string, life: Incarnation): ClientOptions {
    return {
      directory: DIRECTORY_ORIGIN,
      user,
      token: () => this.tokens.get(user)!,
      transport: life.transport,
      clock: life.clock,
      random: life.random,
    }
  }

  /** Processes stalled (a GC pause, a stopped VM) until a virtual time, by name. */
  private readonly pauses = new Map<string, number>()
  private readonly root: Rng
  /** Virtual time at which the faults stop and everything heals. */
  readonly healAt: number
  /** This run's number in the process (its machines' paths are unique to it: see boot-view.ts). */
  readonly runId = ++runs

  constructor(
    root: Rng,
    readonly config: SimConfig,
    readonly variant: VariantName,
    /** Virtual time the setup ends at (faults start). */
    readonly setupMs = 2_000,
  ) {
    this.root = root
    this.healAt = setupMs + config.faultMs
    this.checks = new Invariants({
      scheduler: this.scheduler,
      trace: this.trace,
      stats: this.stats,
      spinLimit: SPIN_LIMIT,
    })
    const observer: NetworkObserver = {
      sent: (from) => this.checks.sent(from),
      served: (exchange) => this.checks.served(exchange),
      fault: (kind) => this.stats.faults[kind]++,
    }
    this.network = new SimNetwork(this.scheduler, this.fork(), this.trace, observer, (name) => this.pausedUntil(name))
  }

  /** Stalls process `name` until virtual time `until`: its waits and its messages wait for it. */
  pause(name: string, until: number): void {
    this.pauses.set(name, Math.max(until, this.pauses.get(name) ?? 0))
  }

  /** Until when `name` is stalled (0 or a past time: it runs). */
  pausedUntil(name: string): number {
    return this.pauses.get(name) ?? 0
  }

  /** A new independent generator (forks are taken in a fixed order, so a run replays). */
  fork(): Rng {
    return this.root.fork()
  }

  /** Whether the fault phase is still on. */
  get faulty(): boolean {
    return this.scheduler.now < this.healAt
  }
}
