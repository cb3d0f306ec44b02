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
 * deadline are finished and counted; the elapsed time runs to the last one.
 */
export async function concurrentCommits(
  writers: number,
  durationMs: number,
  commit: (k: number) => Promise<unknown> | undefined,
): Promise<{ commits: number; elapsedMs: number }> {
  let next = 0
  let commits = 0
  const start = performance.now()
  const deadline = start + durationMs
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await commit(next++)
      commits++
    }
  }
  await Promise.all(Array.from({ length: writers }, loop))
  return { commits, elapsedMs: performance.now() - start }
}

/**
 * Measures the longest event-loop block while `work` runs: a 1 ms interval timer records how late each tick
 * fires; the largest gap between consecutive ticks minus the interval is the longest block.
 */
export async function longestBlock<T>(work: () => Promise<T>): Promise<{ result: T; maxBlockMs: number }> {
  let last = performance.now()
  let max = 0
  const timer = setInterval(() => {
    const now = performance.now()
    max = Math.max(max, now - last)
    last = now
  }, 1)
  try {
    const result = await work()
    max = Math.max(max, performance.now() - last)
    return { result, maxBlockMs: Math.max(0, max - 1) }
  } finally {
    clearInterval(timer)
  }
}
