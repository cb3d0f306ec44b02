// The contract between the bench parent and its child runner: arguments in, one IPC message out.
import type { Params, Sample } from './workload.js'

/** How the parent asks the child to run one workload × system. Passed as JSON on the command line. */
export interface RunnerOptions {
  readonly quick: boolean
  readonly warmup: number
  readonly repeats: number
  /**
   * Soft time budget in ms (absent: none). Once the child has run this long and holds at least one measured sample,
   * it stops repeating, so a slow system reports the runs it finished instead of costing the whole run's time.
   */
  readonly budgetMs?: number
  /** Directory under which the child creates (and deletes) its stores. */
  readonly tmpRoot: string
}

/** The child's single reply. */
export type RunnerMessage =
  | {
      readonly type: 'result'
      /** Measured samples, warm-ups excluded. */
      readonly samples: readonly Sample[]
      /** `process.resourceUsage().maxRSS` of the child at the end, in bytes (covers warm-ups and loader). */
      readonly maxRssBytes: number
    }
  | { readonly type: 'error'; readonly message: string }

/** The argv the runner expects after its script path. */
export function runnerArgs(workload: string, system: string, params: Params, options: RunnerOptions): string[] {
  return [workload, system, JSON.stringify(params), JSON.stringify(options)]
}
