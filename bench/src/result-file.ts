// The JSON a bench run writes and the report reads: shapes, the "n/a" marker, and how outcomes become entries.
import type { MachineInfo } from './machine.js'
import type { SystemOutcome } from './run-system.js'
import { median, type Spread, spread } from './stats.js'
import { type GoalSpec, HIGHER_IS_BETTER, type Params, type RatioSpec, type Unit } from './workload.js'

/** The figure reported when a system was killed at its time cap. Never replaced by a number. */
export const EXCEEDED_CAP = 'n/a (exceeded cap)'
/** The figure reported when a system's child process failed. */
export const FAILED = 'n/a (failed)'

/** One system's entry under `workloads.<workload>`: the headline figure is keyed by the workload's unit. */
export type SystemResult = { readonly [U in Unit]?: number | string } & {
  readonly spread?: Spread
  /** Every measured sample of the headline figure, in run order. */
  readonly samples?: readonly number[]
  /** Median of each secondary metric across repeats. */
  readonly metrics?: Readonly<Record<string, number>>
  /** Peak RSS of the child process (`maxRSS`, whole process lifetime). */
  readonly peakRssBytes?: number
  /** Wall time of the child process, start-up included. */
  readonly wallMs: number
  readonly capMs?: number
  readonly error?: string
}

/** What the report needs to know about a workload besides its figures. */
export interface WorkloadMeta {
  readonly title: string
  readonly description: string
  readonly unit: Unit
  readonly higherIsBetter: boolean
  readonly params: Params
  readonly capMs: number
  readonly warmup: number
  readonly repeats: number
  /** Soft per-system budget (see `Workload.budgetMs`), if the workload sets one. */
  readonly budgetMs?: number
  readonly ratios: Readonly<Record<string, RatioSpec>>
  readonly goals?: Readonly<Record<string, GoalSpec>>
  readonly notes?: string
}

/** A goal checked against this run's figures. */
export interface GoalResult extends GoalSpec {
  readonly workload: string
  /** The ratio or metric checked, or null when it has no figure (a side exceeded its cap or failed). */
  readonly value: number | null
  /** Whether the bound holds; null when the value is null. */
  readonly met: boolean | null
}

/** A whole bench result file. */
export interface BenchResult {
  /** workload → system → entry. */
  readonly workloads: Readonly<Record<string, Readonly<Record<string, SystemResult>>>>
  /** Ratio name → value, or null when a side has no figure (exceeded its cap or failed). */
  readonly ratios: Readonly<Record<string, number | null>>
  /** Goal name → the goal, the figure checked and whether it was met (absent in files from older runs). */
  readonly goals?: Readonly<Record<string, GoalResult>>
  /** Wall time of the whole run (peer check, every child process), in ms. */
  readonly totalMs?: number
  readonly machine: MachineInfo
  /** The command that produced this file, e.g. `pnpm bench --quick`. */
  readonly command: string
  readonly quick: boolean
  readonly meta: Readonly<Record<string, WorkloadMeta>>
}

/** Turns a child's outcome into its JSON entry. */
export function toSystemResult(unit: Unit, outcome: SystemOutcome): SystemResult {
  const wallMs = Math.round(outcome.wallMs)
  if (outcome.status === 'exceeded-cap') return { [unit]: EXCEEDED_CAP, wallMs, capMs: outcome.capMs }
  if (outcome.status === 'failed') return { [unit]: FAILED, wallMs, error: outcome.error }
  const values = outcome.samples.map((s) => s.value)
  const metricNames = new Set(outcome.samples.flatMap((s) => Object.keys(s.metrics ?? {})))
  const metrics: Record<string, number> = {}
  for (const name of metricNames) {
    const series = outcome.samples.map((s) => s.metrics?.[name]).filter((v): v is number => v !== undefined)
    metrics[name] = median(series)
  }
  return {
    [unit]: median(values),
    spread: spread(values),
    samples: values,
    ...(metricNames.size > 0 ? { metrics } : {}),
    peakRssBytes: outcome.peakRssBytes,
    wallMs,
  }
}

/** The numeric headline figure of an entry, or undefined for "n/a". */
export function figure(entry: SystemResult | undefined, unit: Unit): number | undefined {
  const value = entry?.[unit]
  return typeof value === 'number' ? value : undefined
}

/**
 * Computes a workload's ratios from its entries (see {@link RatioSpec}). A ratio whose systems were not run
 * (filtered out with `--systems`) is omitted; one whose systems ran but have no figure is null.
 */
export function computeRatios(
  unit: Unit,
  specs: Readonly<Record<string, RatioSpec>>,
  entries: Readonly<Record<string, SystemResult>>,
): Record<string, number | null> {
  const out: Record<string, number | null> = {}
  for (const [name, spec] of Object.entries(specs)) {
    const to = (typeof spec.to === 'string' ? [spec.to] : spec.to).filter((system) => system in entries)
    if (!(spec.of in entries) || to.length === 0) continue
    const value = (system: string): number | undefined =>
      spec.metric === undefined ? figure(entries[system], unit) : entries[system]?.metrics?.[spec.metric.name]
    const of = value(spec.of)
    const candidates = to.map(value).filter((v): v is number => v !== undefined)
    if (of === undefined || candidates.length === 0) {
      out[name] = null
      continue
    }
    const higherIsBetter = spec.metric?.higherIsBetter ?? HIGHER_IS_BETTER[unit]
    const best = higherIsBetter ? Math.max(...candidates) : Math.min(...candidates)
    out[name] = of / best
  }
  return out
}

/**
 * Checks a workload's goals against its ratios and entries. A goal whose ratio or system was not run (filtered
 * out) is omitted; one whose figure is missing is reported with value and met null.
 */
export function checkGoals(
  workload: string,
  specs: Readonly<Record<string, GoalSpec>>,
  ratios: Readonly<Record<string, number | null>>,
  entries: Readonly<Record<string, SystemResult>>,
): Record<string, GoalResult> {
  const out: Record<string, GoalResult> = {}
  for (const [name, spec] of Object.entries(specs)) {
    let value: number | null
    if (spec.ratio !== undefined) {
      if (!(spec.ratio in ratios)) continue
      value = ratios[spec.ratio] ?? null
    } else if (spec.metric !== undefined) {
      const entry = entries[spec.metric.system]
      if (entry === undefined) continue
      value = entry.metrics?.[spec.metric.name] ?? null
    } else {
      continue
    }
    const met =
      value === null
        ? null
        : (spec.atLeast === undefined || value >= spec.atLeast) && (spec.atMost === undefined || value <= spec.atMost)
    out[name] = { ...spec, workload, value, met }
  }
  return out
}
