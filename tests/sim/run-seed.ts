// One simulation run, a pure function of its seed (and profile and variant): set the deployment up on a calm
// network, inject the seed's faults for the fault phase while the writers commit, heal, then wait — in virtual time,
// at most the liveness bound — until every commit reached its home and every replica (same (seq, chain) and
// stateHash), one home serves each user and every move settled. The invariants are checked all along; the first
// violation stops the run. The result carries the counters and the trace (the events that led to a failure).
import { seededRng } from '@homedb/testkit'
import { Deployment } from './deployment.js'
import { installEventLoopWatch, realTimerStacks, uninstallEventLoopWatch } from './event-loop.js'
import { scheduleFaults } from './fault-schedule.js'
import { chooseConfig, type SimConfig, type SimProfile } from './sim-config.js'
import type { SimStats } from './sim-stats.js'
import { forgingNetwork, variantConfig } from './variants.js'
import { SimWorld, type VariantName } from './world.js'

/** Options of {@link runSimSeed}. */
export interface SimRunOptions {
  readonly profile?: SimProfile
  readonly variant?: VariantName
}

/** What a run did. */
export interface SimRunResult {
  readonly seed: number
  readonly profile: SimProfile
  readonly variant: VariantName
  readonly config: SimConfig
  /** Why the run failed (an invariant, liveness, the harness); undefined if it passed. */
  readonly failure: string | undefined
  readonly stats: SimStats
  /** Every event of the run, one line each. */
  readonly trace: readonly string[]
  /** Virtual ms from the heal to convergence (undefined if it never converged). */
  readonly healMs: number | undefined
}

/** The command that replays a run. */
export function replayCommand(seed: number, profile: SimProfile, variant: VariantName): string {
  const extra = `${profile === 'long' ? '' : ` --profile ${profile}`}${variant === 'none' ? '' : ` --variant ${variant}`}`
  return `pnpm torture --sim --seed ${seed}${extra} --trace`
}

async function setUp(world: SimWorld, deployment: Deployment): Promise<void> {
  let ready = false
  world.scheduler.task(0, async () => {
    await deployment.setup()
    ready = true
  })
  await world.scheduler.run({ until: 60_000, stop: () => ready || world.scheduler.failed !== undefined })
  if (!ready && world.scheduler.failed === undefined) world.scheduler.fail(new Error('the setup did not finish'))
}

/** Runs the liveness phase: checks convergence every virtual second until it holds or the bound passes. */
async function settle(world: SimWorld, deployment: Deployment): Promise<string[] | undefined> {
  let reasons: string[] = ['not checked yet']
  const check = async (): Promise<void> => {
    reasons = await deployment.converged()
    if (reasons.length > 0) world.scheduler.task(world.scheduler.now + 1_000, check)
  }
  world.scheduler.task(world.healAt, check)
  await world.scheduler.run({
    until: world.healAt + world.config.healBoundMs,
    stop: () => reasons.length === 0,
    onQuiet: () => deployment.poll(),
  })
  return reasons.length === 0 ? undefined : reasons
}

function failureOf(world: SimWorld, liveness: string[] | undefined): string | undefined {
  const timers = realTimerStacks()
  if (timers.length > 0) return `a real timer was made on a simulated path:\n${timers[0]}`
  const failed = world.scheduler.failed
  if (failed !== undefined) return failed.stack ?? failed.message
  if (liveness !== undefined) {
    const bound = world.config.healBoundMs / 1000
    return `liveness: not converged ${bound} s (virtual) after the faults stopped:\n  ${liveness.join('\n  ')}`
  }
  return undefined
}

/**
 * Runs seed `seed`.
 *
 * @example
 * ```ts
 * const result = await runSimSeed(42, { profile: 'short' })
 * if (result.failure) console.error(result.failure, result.trace.slice(-50).join('\n'))
 * ```
 */
export async function runSimSeed(seed: number, options: SimRunOptions = {}): Promise<SimRunResult> {
  const profile = options.profile ?? 'long'
  const variant = options.variant ?? 'none'
  const rng = seededRng(seed)
  const config = variantConfig(chooseConfig(rng, profile), variant)
  installEventLoopWatch()
  const world = new SimWorld(rng.fork(), config, variant)
  const deployment = new Deployment(world)
  let liveness: string[] | undefined
  try {
    await setUp(world, deployment)
    if (world.scheduler.failed === undefined) {
      if (variant === 'forging-network') world.network.tamper = forgingNetwork(world.fork(), 0.2)
      world.network.faults = config.network
      scheduleFaults(world, deployment)
      world.scheduler.at(world.healAt, () => deployment.heal())
      await world.scheduler.run({ until: world.healAt, onQuiet: () => deployment.poll() })
    }
    if (world.scheduler.failed === undefined) liveness = await settle(world, deployment)
  } catch (error) {
    world.scheduler.fail(error)
  } finally {
    uninstallEventLoopWatch()
  }
  const failure = failureOf(world, liveness)
  world.stats.runs = 1
  world.stats.simulatedMs = world.scheduler.now
  world.stats.firings = world.scheduler.firings
  const healMs = failure === undefined ? world.scheduler.now - world.healAt : undefined
  if (healMs !== undefined) world.stats.maxHealMs = healMs
  return { seed, profile, variant, config, failure, stats: world.stats, trace: world.trace.lines, healMs }
}
