// A campaign of simulation runs (`pnpm torture --sim --seeds N`): seeds one after the other, counters added up,
// failures collected with their replay command and the last events of their trace, and the one-line summary that
// RELIABILITY.md quotes.
import { replayCommand, runSimSeed, type SimRunResult } from './run-seed.js'
import type { SimProfile } from './sim-config.js'
import { addSimStats, emptySimStats, FAULT_KINDS, type SimStats, totalFaults } from './sim-stats.js'
import type { VariantName } from './world.js'

/** Options of {@link runSimCampaign}. */
export interface SimCampaignOptions {
  readonly seeds: number
  readonly firstSeed: number
  readonly profile: SimProfile
  readonly variant: VariantName
  /** Called after each run (progress). */
  readonly onRun?: (result: SimRunResult, done: number) => void
}

/** A failed run. */
export interface SimFailure {
  readonly seed: number
  /** The failure, the replay command and the last events of the trace. */
  readonly message: string
}

/** What a campaign did. */
export interface SimCampaignResult {
  readonly options: SimCampaignOptions
  readonly stats: SimStats
  readonly failures: SimFailure[]
  readonly ms: number
}

/** How many trace lines a failure report shows (the replay prints them all). */
export const FAILURE_TRACE_LINES = 80

/** The report of a failed run: what failed, how to replay it, the events that led to it. */
export function failureReport(result: SimRunResult): string {
  return [
    `seed ${result.seed} (${result.profile}${result.variant === 'none' ? '' : `, variant ${result.variant}`}): ${result.failure}`,
    `replay: ${replayCommand(result.seed, result.profile, result.variant)}`,
    `last ${Math.min(FAILURE_TRACE_LINES, result.trace.length)} of ${result.trace.length} events:`,
    ...result.trace.slice(-FAILURE_TRACE_LINES),
  ].join('\n')
}

/** Runs a campaign; never throws for a failed run. */
export async function runSimCampaign(options: SimCampaignOptions): Promise<SimCampaignResult> {
  const started = performance.now()
  const stats = emptySimStats()
  const failures: SimFailure[] = []
  for (let i = 0; i < options.seeds; i++) {
    const seed = (options.firstSeed + i) >>> 0
    const result = await runSimSeed(seed, { profile: options.profile, variant: options.variant })
    addSimStats(stats, result.stats)
    if (result.failure !== undefined) failures.push({ seed, message: failureReport(result) })
    options.onRun?.(result, i + 1)
  }
  return { options, stats, failures, ms: performance.now() - started }
}

/** The one-line summary of a campaign. */
export function simSummaryLine(r: SimCampaignResult): string {
  const s = r.stats
  const faults = FAULT_KINDS.map((k) => `${k} ${s.faults[k]}`).join(', ')
  const failed = r.failures.map((f) => f.seed).join(' ')
  const last = r.options.firstSeed + r.options.seeds - 1
  return (
    `sim: ${s.runs} runs (${r.options.profile}${r.options.variant === 'none' ? '' : `, variant ${r.options.variant}`}; seeds ${r.options.firstSeed}..${last}), ` +
    `${(s.simulatedMs / 3_600_000).toFixed(2)} simulated hours, ${totalFaults(s)} faults (${faults}), ` +
    `${s.crashesMidCall} power cuts mid-call, ${s.commits} commits (${s.commitsAcked} acknowledged durable), ` +
    `${s.appendsAcked} appends acknowledged, ${s.messages} messages, moves ${s.movesStarted} (${s.movesDone} done, ` +
    `${s.movesAborted} aborted, ${s.movesUnknown} unknown, ${s.movesAbandoned} abandoned), ${s.leaseTakeBacks} lease take-backs, ` +
    `${s.checks} checks, longest heal ${(s.maxHealMs / 1000).toFixed(1)} s, ` +
    `${r.failures.length} failures${failed ? ` [${failed}]` : ''} in ${(r.ms / 1000).toFixed(1)} s`
  )
}
