// The `--sim` mode of `pnpm torture` (tests/torture/cli.ts): a campaign of simulation runs with a one-line summary
// and every failure (its replay command and the events that led to it), or with `--seed S --trace` one run replayed
// with every event it made. Exit code 1 if anything failed, 2 for bad arguments.

import { runSimSeed } from './run-seed.js'
import { failureReport, runSimCampaign, simSummaryLine } from './sim-campaign.js'
import type { SimProfile } from './sim-config.js'
import type { VariantName } from './world.js'

const PROFILES: readonly SimProfile[] = ['short', 'long']
const VARIANTS: readonly VariantName[] = ['none', 'lying-disk', 'blind-switch', 'forging-network']

/** The arguments `--sim` takes (parsed by the torture CLI). */
export interface SimCliArgs {
  readonly seeds: number
  readonly firstSeed: number
  readonly single: boolean
  readonly profile?: string | undefined
  readonly variant?: string | undefined
  readonly trace?: boolean | undefined
  readonly json?: boolean | undefined
  readonly quiet?: boolean | undefined
}

function choice<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${value}`)
}

/** Runs the simulation as the arguments say; resolves with the exit code. */
export async function runSimCli(args: SimCliArgs): Promise<number> {
  let profile: SimProfile
  let variant: VariantName
  try {
    profile = choice(args.profile, PROFILES, 'long', 'profile')
    variant = choice(args.variant, VARIANTS, 'none', 'variant')
  } catch (error) {
    console.error((error as Error).message)
    return 2
  }
  if (args.single && args.trace) {
    const result = await runSimSeed(args.firstSeed, { profile, variant })
    console.log(result.trace.join('\n'))
    console.log(result.failure === undefined ? `seed ${result.seed}: passed` : `\nFAILED ${failureReport(result)}`)
    return result.failure === undefined ? 0 : 1
  }
  let lastProgress = performance.now()
  const result = await runSimCampaign({
    seeds: args.seeds,
    firstSeed: args.firstSeed,
    profile,
    variant,
    onRun(run, done) {
      if (run.failure !== undefined) console.error(`\nFAILED ${failureReport(run)}\n`)
      if (args.quiet || performance.now() - lastProgress < 5000) return
      lastProgress = performance.now()
      process.stderr.write(`  ${done}/${args.seeds} runs\n`)
    },
  })
  if (args.json) console.log(JSON.stringify({ summary: simSummaryLine(result), stats: result.stats }))
  else console.log(simSummaryLine(result))
  return result.failures.length > 0 ? 1 : 0
}
