// A torture campaign: many seeded power-loss and fault runs of @homedb/log plus a fuzzing sample, with one summary.
import fc from 'fast-check'
import {
  appendEncodedProperties,
  directoryProperties,
  frameProperties,
  headerProperties,
  lockProperties,
  snapshotFileProperties,
} from './fuzz-properties.js'
import { addStats, emptyStats, type RunStats, runLogSeed } from './power-loss.js'
import { runTablesSeed } from './tables-runs.js'

/** Which runs a campaign makes: log-level or tables-level, power cuts only or with injected I/O errors. */
export type RunKind = 'power-loss' | 'faults' | 'tables-power-loss' | 'tables-faults'

/** Every kind of run. */
export const RUN_KINDS: readonly RunKind[] = ['power-loss', 'faults', 'tables-power-loss', 'tables-faults']

/** Options of {@link runCampaign}. */
export interface CampaignOptions {
  /** Seeds per kind. */
  seeds: number
  /** The first seed; seeds are `firstSeed, firstSeed + 1, …`. */
  firstSeed: number
  kinds: readonly RunKind[]
  /** fast-check runs per fuzz property (0: no fuzzing). */
  fuzzRuns: number
  /** fast-check seed. */
  fuzzSeed: number
  /** Called after each run (progress). */
  onRun?: (done: number, total: number, failures: number) => void
}

/** One failed run or property. */
export interface CampaignFailure {
  kind: RunKind | 'fuzz'
  seed: number
  message: string
}

/** What a campaign did. */
export interface CampaignResult {
  options: CampaignOptions
  stats: RunStats
  runsByKind: Record<RunKind, number>
  fuzzCases: number
  failures: CampaignFailure[]
  ms: number
}

/** Every fuzz property by name. */
function fuzzProperties(): [string, fc.IProperty<never> | fc.IAsyncProperty<never>, number][] {
  const out: [string, fc.IProperty<never> | fc.IAsyncProperty<never>, number][] = []
  const add = (group: string, props: Record<string, unknown>, weight: number) => {
    for (const [name, p] of Object.entries(props)) out.push([`${group}.${name}`, p as fc.IProperty<never>, weight])
  }
  add('frame', frameProperties(), 10)
  add('header', headerProperties(), 5)
  add('lock', lockProperties(), 5)
  add('snapshotFile', snapshotFileProperties(), 2)
  add('directory', directoryProperties(), 1)
  add('appendEncoded', appendEncodedProperties(), 2)
  return out
}

/** Runs a campaign; never throws for a failed run (failures are collected). */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = performance.now()
  const stats = emptyStats()
  const failures: CampaignFailure[] = []
  const runsByKind: Record<RunKind, number> = { 'power-loss': 0, faults: 0, 'tables-power-loss': 0, 'tables-faults': 0 }
  const total = options.seeds * options.kinds.length
  let done = 0
  for (let i = 0; i < options.seeds; i++) {
    const seed = (options.firstSeed + i) >>> 0
    for (const kind of options.kinds) {
      try {
        const faults = kind === 'faults' || kind === 'tables-faults'
        const run = kind.startsWith('tables') ? runTablesSeed : runLogSeed
        addStats(stats, await run(seed, { faults }))
      } catch (error) {
        failures.push({ kind, seed, message: error instanceof Error ? error.message : String(error) })
      }
      runsByKind[kind]++
      options.onRun?.(++done, total, failures.length)
    }
  }
  let fuzzCases = 0
  if (options.fuzzRuns > 0) {
    for (const [name, property, weight] of fuzzProperties()) {
      const numRuns = options.fuzzRuns * weight
      const result = await fc.check(property as fc.IAsyncProperty<never>, { numRuns, seed: options.fuzzSeed })
      fuzzCases += result.numRuns
      if (result.failed) {
        failures.push({ kind: 'fuzz', seed: options.fuzzSeed, message: `${name}: ${fc.defaultReportMessage(result)}` })
      }
    }
  }
  return { options, stats, runsByKind, fuzzCases, failures, ms: performance.now() - started }
}

/** The one-line summary of a campaign. */
export function summaryLine(r: CampaignResult): string {
  const s = r.stats
  const k = r.runsByKind
  const runs = k['power-loss'] + k.faults + k['tables-power-loss'] + k['tables-faults']
  const failed = r.failures.map((f) => `${f.kind}:${f.seed}`).join(' ')
  return (
    `torture: ${runs} runs (log ${k['power-loss']} power-loss + ${k.faults} fault, tables ${k['tables-power-loss']} power-loss + ${k['tables-faults']} fault; ` +
    `seeds ${r.options.firstSeed}..${r.options.firstSeed + r.options.seeds - 1}), ` +
    `${s.crashes} crash points (${s.crashesMidCall} mid-call), ${s.faults} faults injected (${s.failStops} fail-stops), ` +
    `${s.flipCrashes} bit-flip crashes (${s.refusals} refused, ${s.readCorrupt} read-corrupt, ${s.snapshotLost} snapshot-lost, ` +
    `${s.knownLimit} known-limit, ${s.harmlessFlips} harmless), ${s.appends} commits, ${s.snapshots} snapshots/compactions, ` +
    `${r.fuzzCases} fuzz cases (seed ${r.options.fuzzSeed}), ${r.failures.length} failures${failed ? ` [${failed}]` : ''} ` +
    `in ${(r.ms / 1000).toFixed(1)} s`
  )
}
