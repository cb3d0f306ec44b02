// A torture campaign: many seeded power-loss and fault runs of @homedb/log and @homedb/tables, with one summary.
// (Fuzzing of the log's decoders lives with the log: `pnpm fuzz`, packages/log/test/fuzz/.)
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
  /** Called after each run (progress). */
  onRun?: (done: number, total: number, failures: number) => void
}

/** One failed run or property. */
export interface CampaignFailure {
  kind: RunKind
  seed: number
  message: string
}

/** What a campaign did. */
export interface CampaignResult {
  options: CampaignOptions
  stats: RunStats
  runsByKind: Record<RunKind, number>
  failures: CampaignFailure[]
  ms: number
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
  return { options, stats, runsByKind, failures, ms: performance.now() - started }
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
    `${s.dsyncRuns} runs with O_DSYNC writes, ${s.boots - s.unpreallocatedBoots} boots with preallocated segments ` +
    `and ${s.unpreallocatedBoots} without, ` +
    `${r.failures.length} failures${failed ? ` [${failed}]` : ''} ` +
    `in ${(r.ms / 1000).toFixed(1)} s`
  )
}
