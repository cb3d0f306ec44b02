// The registration API of the bench harness: what a workload is, what a system run returns, and the units.
// A new benchmark is one file under src/workloads/ built with `defineWorkload` plus one line in src/workloads/index.ts.

/** A JSON value, so workload parameters can travel to the child process on its command line. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/** Workload parameters: a JSON object (sizes, batch sizes, concurrency, ...). */
export type Params = { readonly [key: string]: Json }

/**
 * The unit of a workload's headline figure. It is also the key of that figure in the result JSON.
 * `opsPerSec` and `mbPerSec` are better when higher; `ms`, `bytesPerRow` and `rssBytes` when lower.
 */
export type Unit = 'opsPerSec' | 'ms' | 'mbPerSec' | 'bytesPerRow' | 'rssBytes'

/** Whether a larger figure is better, per unit (used for "best peer" ratios and chart captions). */
export const HIGHER_IS_BETTER: Readonly<Record<Unit, boolean>> = {
  opsPerSec: true,
  mbPerSec: true,
  ms: false,
  bytesPerRow: false,
  rssBytes: false,
}

/** What one measured run of a system returns. */
export interface Sample {
  /** The headline figure in the workload's unit. */
  readonly value: number
  /**
   * Secondary figures of the same run (e.g. `fdatasyncPerCommit`, `diskBytesPerRow`, `maxEventLoopBlockMs`).
   * The harness reports the median of each across repeats.
   */
  readonly metrics?: Readonly<Record<string, number>>
}

/** What the harness hands to a system run inside the child process. */
export interface RunContext {
  /** True for `pnpm bench --quick`. */
  readonly quick: boolean
  /** 0-based index of this run; warm-up runs come first and are discarded. */
  readonly run: number
  /** True while warming up (the sample is discarded). */
  readonly warmup: boolean
  /** Creates a fresh empty directory that the harness deletes after this run. */
  tmpDir(): string
  /**
   * A directory kept for every run of this child process (the same path each call) and deleted when the child
   * exits. For a store that is built once, untimed, and then measured by several runs (reads, reopen, replay).
   */
  childDir(): string
}

/** One system's implementation of a workload: set up untimed, time the measured part, tear down, return the sample. */
export type SystemRun<P extends Params> = (params: P, ctx: RunContext) => Promise<Sample>

/**
 * A ratio reported in the result's `ratios`: the figure of `of` divided by the figure of `to`.
 * When `to` lists several systems the best of them is used (highest for higher-is-better units, lowest otherwise),
 * which is how "homedb : best peer" goals are expressed. Raw division: for `ms` a ratio below 1 means `of` is faster.
 */
export interface RatioSpec {
  readonly of: string
  readonly to: string | readonly string[]
  /**
   * Divide this secondary metric of the systems (their medians) instead of the headline figure, e.g. a latency
   * percentile; `higherIsBetter` says which of several `to` systems is the best.
   */
  readonly metric?: { readonly name: string; readonly higherIsBetter: boolean }
}

/**
 * A target the report checks: a ratio of the workload (by name) or one system's secondary metric, against a bound.
 * The report lists every goal as met, missed or n/a; the figures are never adjusted to meet one.
 */
export interface GoalSpec {
  /** The goal in words, e.g. `homedb ≥ 2× the best peer at equal durability (256 writers)`. */
  readonly text: string
  /** Where the goal was set, e.g. `issue 7`. */
  readonly source: string
  /** Name of a ratio of this workload. */
  readonly ratio?: string
  /** Or a secondary metric of one system (its median across repeats). */
  readonly metric?: { readonly system: string; readonly name: string }
  readonly atLeast?: number
  readonly atMost?: number
  /**
   * What stands in the way when the goal is missed (a mechanism, not a number), printed in the goals table beside a
   * missed goal, e.g. which part of the work belongs to which package and what is known to cost.
   */
  readonly whenMissed?: string
}

/** A benchmark workload and every system that runs it. */
export interface Workload<P extends Params = Params> {
  /** Kebab-case id used by `--only` and as the key in the result JSON. */
  readonly name: string
  /** One line for the report's heading. */
  readonly title: string
  /** What is measured, on what data, at which durability level: printed in the report. */
  readonly description: string
  readonly unit: Unit
  /** Parameters for a full or a `--quick` run. They are recorded in the result JSON. */
  params(quick: boolean): P
  /** System name → implementation. Each one runs in its own child process under the time cap. */
  readonly systems: Readonly<Record<string, SystemRun<P>>>
  /** Ratio name → definition (see {@link RatioSpec}). */
  readonly ratios?: Readonly<Record<string, RatioSpec>>
  /** Goal name → definition (see {@link GoalSpec}); names are global, so prefix them with the workload's. */
  readonly goals?: Readonly<Record<string, GoalSpec>>
  /**
   * What explains the figures (how each system reaches its durability, where time goes, known causes of a gap).
   * Printed under the workload's table. State mechanisms, not numbers: the numbers come from the run.
   */
  readonly notes?: string
  /** Per-system time cap in milliseconds for a full or quick run (default 120 s full, 30 s quick). */
  capMs?(quick: boolean): number
  /** Measured runs per system (default 5 full, 3 quick). */
  readonly repeats?: number
  /** Discarded warm-up runs before the measured ones (default 1). */
  readonly warmup?: number
  /**
   * Soft per-system time budget in ms for a full or quick run: past it a system stops repeating once it has one
   * measured sample (the report shows how many runs each figure is the median of). Default: none.
   */
  budgetMs?(quick: boolean): number
}

/**
 * Declares a workload with its own parameter type and erases that type for the registry.
 * @example
 * export const myWorkload = defineWorkload({ name: 'my-workload', unit: 'opsPerSec', params: (quick) => ({ n: quick ? 1e4 : 1e6 }), ... })
 */
export function defineWorkload<P extends Params>(workload: Workload<P>): Workload {
  return workload as unknown as Workload
}

/** Builds an `opsPerSec` sample from an operation count and the elapsed milliseconds. */
export function opsPerSec(operations: number, elapsedMs: number, metrics?: Readonly<Record<string, number>>): Sample {
  const value = operations / (elapsedMs / 1000)
  return metrics === undefined ? { value } : { value, metrics }
}
