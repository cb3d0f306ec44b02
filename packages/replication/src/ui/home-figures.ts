// The server figures the operator page draws as charts: once a second the home's Prometheus counters are read and
// turned into rates (appends, commits, bytes and requests per second, the mean and 99th-percentile fsync wait of
// the appends of that second) beside the gauges (open logs, users, waiting tails), kept in a ring of the last five
// minutes. Memory is fixed (300 samples); time comes from the home's clock.
import type { Clock } from '../clock.js'
import type { HomeMetrics } from '../internal/home-metrics.js'

/** One second of the home, as the page charts it. */
export interface FigureSample {
  /** When it was taken (the server's clock, ms). */
  readonly at: number
  readonly appendsPerSec: number
  readonly commitsPerSec: number
  readonly bytesPerSec: number
  readonly requestsPerSec: number
  /** Mean wait of the appends acknowledged in the interval for their fsync, ms (0 without appends). */
  readonly fsyncMeanMs: number
  /** The bucket bound under which 99% of those waits fell, ms (0 without appends). */
  readonly fsyncP99Ms: number
  readonly openLogs: number
  readonly users: number
  readonly tails: number
}

/** Samples kept: five minutes at one a second. */
export const FIGURE_SAMPLES = 300

interface Totals {
  readonly at: number
  readonly appends: number
  readonly commits: number
  readonly bytes: number
  readonly requests: number
  readonly fsyncSum: number
  readonly fsyncCount: number
  /** Cumulative bucket counts by upper bound (seconds). */
  readonly buckets: ReadonlyMap<number, number>
}

type MetricValues = Awaited<ReturnType<HomeMetrics['appends']['get']>>['values']

function total(values: MetricValues): number {
  let n = 0
  for (const v of values) n += v.value
  return n
}

async function totals(metrics: HomeMetrics, at: number): Promise<Totals> {
  const fsync = (await metrics.fsyncSeconds.get()).values
  const buckets = new Map<number, number>()
  let fsyncSum = 0
  let fsyncCount = 0
  for (const v of fsync) {
    if (v.metricName?.endsWith('_sum')) fsyncSum = v.value
    else if (v.metricName?.endsWith('_count')) fsyncCount = v.value
    else if (v.labels.le !== undefined) buckets.set(v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), v.value)
  }
  return {
    at,
    appends: total((await metrics.appends.get()).values),
    commits: total((await metrics.appendCommits.get()).values),
    bytes: total((await metrics.appendBytes.get()).values),
    requests: total((await metrics.requests.get()).values),
    fsyncSum,
    fsyncCount,
    buckets,
  }
}

/** The smallest bucket bound holding 99% of the waits observed between two readings, in ms. */
function p99(before: Totals, now: Totals): number {
  const count = now.fsyncCount - before.fsyncCount
  if (count <= 0) return 0
  for (const [bound, cumulative] of [...now.buckets].sort(([a], [b]) => a - b)) {
    if (cumulative - (before.buckets.get(bound) ?? 0) >= 0.99 * count) return Number.isFinite(bound) ? bound * 1000 : 0
  }
  return 0
}

function sample(before: Totals, now: Totals, gauges: Gauges): FigureSample {
  const seconds = Math.max(0.001, (now.at - before.at) / 1000)
  const fsyncs = now.fsyncCount - before.fsyncCount
  return {
    at: now.at,
    appendsPerSec: (now.appends - before.appends) / seconds,
    commitsPerSec: (now.commits - before.commits) / seconds,
    bytesPerSec: (now.bytes - before.bytes) / seconds,
    requestsPerSec: (now.requests - before.requests) / seconds,
    fsyncMeanMs: fsyncs > 0 ? ((now.fsyncSum - before.fsyncSum) / fsyncs) * 1000 : 0,
    fsyncP99Ms: p99(before, now),
    openLogs: gauges.openLogs(),
    users: gauges.users(),
    tails: gauges.tails(),
  }
}

/** The gauges read at each sample. */
export interface Gauges {
  openLogs(): number
  users(): number
  tails(): number
}

/** The ring of the last {@link FIGURE_SAMPLES} samples, filled once a second until `stop` fires. */
export class HomeFigures {
  private readonly ring: FigureSample[] = []

  constructor(
    private readonly metrics: HomeMetrics,
    private readonly gauges: Gauges,
    private readonly clock: Clock,
  ) {}

  /** Samples every `intervalMs` until `stop` fires. */
  async run(stop: AbortSignal, intervalMs = 1000): Promise<void> {
    let before = await totals(this.metrics, this.clock.now())
    while (!stop.aborted) {
      await this.clock.sleep(intervalMs, stop)
      if (stop.aborted) return
      const now = await totals(this.metrics, this.clock.now())
      this.ring.push(sample(before, now, this.gauges))
      if (this.ring.length > FIGURE_SAMPLES) this.ring.shift()
      before = now
    }
  }

  /** Samples taken after `at` (all of them when `at` is undefined), oldest first. */
  since(at: number | undefined): FigureSample[] {
    return at === undefined ? [...this.ring] : this.ring.filter((s) => s.at > at)
  }
}
