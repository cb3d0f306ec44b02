// Small measuring helpers shared by the workloads: warm-up sizes, concurrent writers against a deadline,
// event-loop block probes and memory after a full GC.

/** The size a run uses: the full size when measured, at most `warmupSize` while warming up (JIT, page cache). */
export function runSize(ctx: { readonly warmup: boolean }, size: number, warmupSize: number): number {
  return ctx.warmup ? Math.min(size, warmupSize) : size
}

/** Forces a full garbage collection (the child runs with --expose-gc), twice so finalizers' garbage goes too. */
export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc (the bench runner does)')
  gc()
  gc()
}

/** Lets pending I/O callbacks and timers run (a few event-loop turns). */
export async function settle(ms = 20): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Runs `writers` concurrent loops until `durationMs` has passed: each loop awaits `commit(k)` (k is a global
 * counter, so every commit writes its own key) and counts it once it resolved. Commits still in flight at the
 * deadline are finished and counted; the elapsed time runs to the last one. With `latenciesUs`, each commit's time
 * from its call to its acknowledgement is pushed there, in µs.
 */
export async function concurrentCommits(
  writers: number,
  durationMs: number,
  commit: (k: number) => Promise<unknown> | undefined,
  latenciesUs?: number[],
): Promise<{ commits: number; elapsedMs: number }> {
  let next = 0
  let commits = 0
  const start = performance.now()
  const deadline = start + durationMs
  const loop = async (): Promise<void> => {
    for (let now = performance.now(); now < deadline; ) {
      await commit(next++)
      commits++
      const done = performance.now()
      latenciesUs?.push((done - now) * 1000)
      now = done
    }
  }
  await Promise.all(Array.from({ length: writers }, loop))
  return { commits, elapsedMs: performance.now() - start }
}

/** The p50, p99 and p99.9 of `samples` (nearest rank), as metrics named `<prefix>P50Us` and so on. */
export function latencyPercentiles(samples: number[], prefix = 'latency'): Record<string, number> {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
  return { [`${prefix}P50Us`]: at(0.5), [`${prefix}P99Us`]: at(0.99), [`${prefix}P999Us`]: at(0.999) }
}

/**
 * Measures the longest event-loop block while `work` runs: a 1 ms interval timer records how late each tick
 * fires; the largest gap between consecutive ticks minus the interval is the longest block.
 */
export async function longestBlock<T>(work: () => Promise<T>): Promise<{ result: T; maxBlockMs: number }> {
  const { result, maxBlockMs } = await blocksAndGc(work)
  return { result, maxBlockMs }
}

/** What {@link blocksAndGc} measured. */
export interface BlocksAndGc<T> {
  readonly result: T
  /** The longest event-loop block, GC pauses included. */
  readonly maxBlockMs: number
  /** The longest block once the V8 GC pauses inside it are taken out: the work's own longest stretch. */
  readonly maxBlockMsWithoutGc: number
  /** The longest single GC pause (any kind) while the work ran, and all pauses together. */
  readonly maxGcPauseMs: number
  readonly gcPauseMs: number
}

/**
 * Like {@link longestBlock}, and also observes V8's GC pauses (`perf_hooks` 'gc' entries) while `work` runs, so a
 * block can be told apart from a garbage collection that happened to fall in it.
 */
export async function blocksAndGc<T>(work: () => Promise<T>): Promise<BlocksAndGc<T>> {
  const gaps: { start: number; end: number }[] = []
  const pauses: { start: number; duration: number }[] = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, duration: e.duration })
  })
  observer.observe({ entryTypes: ['gc'] })
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    gaps.push({ start: last, end: now })
    last = now
  }, 1)
  try {
    const result = await work()
    gaps.push({ start: last, end: performance.now() })
    clearInterval(timer)
    await new Promise((resolve) => setTimeout(resolve, 5)) // let the observer deliver the last entries
    let maxBlockMs = 0
    let maxBlockMsWithoutGc = 0
    for (const gap of gaps) {
      const gc = pauses.filter((p) => p.start >= gap.start && p.start < gap.end).reduce((sum, p) => sum + p.duration, 0)
      maxBlockMs = Math.max(maxBlockMs, gap.end - gap.start - 1)
      maxBlockMsWithoutGc = Math.max(maxBlockMsWithoutGc, gap.end - gap.start - 1 - gc)
    }
    return {
      result,
      maxBlockMs,
      maxBlockMsWithoutGc,
      maxGcPauseMs: pauses.reduce((max, p) => Math.max(max, p.duration), 0),
      gcPauseMs: pauses.reduce((sum, p) => sum + p.duration, 0),
    }
  } finally {
    clearInterval(timer)
    observer.disconnect()
  }
}
