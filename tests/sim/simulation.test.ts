// The deterministic simulation (issue 18) inside `pnpm test`: a bounded, seeded sample of short runs of the real
// homes, directory, writers, replicas and movers keeps every invariant; a seed replays byte for byte; each broken
// variant of variants.ts is caught, by the invariant it breaks, within a bounded number of seeds; and a failing
// seed's report says how to replay it. Campaigns of thousands of seeds are `pnpm torture --sim --seeds N`.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sampleSeeds } from '../torture/seeds.js'
import { runSimSeed, type SimRunResult } from './run-seed.js'
import { failureReport } from './sim-campaign.js'
import { runSimCli } from './sim-cli.js'
import { addSimStats, emptySimStats, totalFaults } from './sim-stats.js'
import type { VariantName } from './world.js'

/** Each broken variant, the invariant it breaks, and within how many seeds (from seed 1) a short run must catch it. */
const VARIANTS: readonly { variant: VariantName; invariant: string; within: number }[] = [
  { variant: 'lying-disk', invariant: 'no acknowledged commit lost', within: 10 },
  { variant: 'blind-switch', invariant: 'one home per epoch', within: 15 },
  { variant: 'forging-network', invariant: 'one history', within: 5 },
]

/** The first failing run among seeds 1..within of `variant` (undefined if none failed). */
async function firstCaught(variant: VariantName, within: number): Promise<SimRunResult | undefined> {
  for (let seed = 1; seed <= within; seed++) {
    const result = await runSimSeed(seed, { profile: 'short', variant })
    if (result.failure !== undefined) return result
  }
  return undefined
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('deterministic simulation', () => {
  const seeds = sampleSeeds(1, 150)
  it(`keeps every invariant and converges after the heal (short profile, ${seeds.length} seeds from ${seeds[0]})`, async () => {
    const stats = emptySimStats()
    const failures: string[] = []
    for (const seed of seeds) {
      const result = await runSimSeed(seed, { profile: 'short' })
      addSimStats(stats, result.stats)
      if (result.failure !== undefined) failures.push(failureReport(result))
    }
    console.log(
      `simulation sample: seeds ${seeds[0]}..${seeds.at(-1)}, ${totalFaults(stats)} faults, ${stats.commitsAcked} ` +
        `durable commits, moves ${stats.movesDone} done / ${stats.movesAborted} aborted`,
    )
    expect(failures, failures.join('\n\n')).toEqual([])
    expect(stats.runs).toBe(seeds.length)
    expect(stats.commitsAcked).toBeGreaterThan(0)
    if (seeds.length >= 100) {
      expect(totalFaults(stats)).toBeGreaterThan(seeds.length)
      expect(stats.faults['home-crash'] + stats.faults['writer-crash']).toBeGreaterThan(0)
      expect(stats.movesDone).toBeGreaterThan(0)
    }
  })

  it('gives the same trace, byte for byte, when a seed runs twice', async () => {
    const first = await runSimSeed(3, { profile: 'long' })
    const second = await runSimSeed(3, { profile: 'long' })
    console.log(`simulation determinism: long seed 3, ${first.trace.length} events`)
    expect(first.failure).toBeUndefined()
    expect(first.trace.length).toBeGreaterThan(500)
    expect(totalFaults(first.stats)).toBeGreaterThan(10)
    expect(second.trace.join('\n')).toBe(first.trace.join('\n'))
    expect(second.stats).toEqual(first.stats)
  })

  for (const { variant, invariant, within } of VARIANTS) {
    it(`catches the ${variant} variant as a broken "${invariant}" within ${within} seeds`, async () => {
      const caught = await firstCaught(variant, within)
      console.log(`simulation variant ${variant}: caught at seed ${caught?.seed ?? 'none'}`)
      expect(caught, `no seed in 1..${within} caught ${variant}`).toBeDefined()
      expect(caught!.failure!.split('\n')[0]).toMatch(new RegExp(`^SimViolation: ${invariant}: `))
    })
  }

  it('reports a failing seed with the command that replays it, and the replay prints the same trace', async () => {
    const failed = await firstCaught('lying-disk', 10)
    expect(failed?.failure).toBeDefined()
    const report = failureReport(failed!)
    expect(report).toContain(
      `replay: pnpm torture --sim --seed ${failed!.seed} --profile short --variant lying-disk --trace`,
    )
    expect(report).toContain(failed!.trace.at(-1))
    const printed: string[] = []
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.join(' '))
    })
    const code = await runSimCli({
      seeds: 1,
      firstSeed: failed!.seed,
      single: true,
      trace: true,
      profile: 'short',
      variant: 'lying-disk',
    })
    expect(code).toBe(1)
    expect(printed[0]).toBe(failed!.trace.join('\n'))
    expect(printed[1]).toContain(failed!.failure!.split('\n')[0])
  })
})
