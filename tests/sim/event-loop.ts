// How the simulation knows the system is quiescent at the current virtual instant: every `setImmediate` the real
// code makes (the simulated file system's latency turns, the log's group commit, the tables' compaction steps) is
// counted while a simulation runs, so "no immediate pending after the microtasks drained" means nothing can happen
// until virtual time moves. Real timers are forbidden on the paths the simulation drives: any `setTimeout` or
// `setInterval` made from the packages' sources while a run is on is recorded (with its stack) and fails the run,
// since it would fire at a real instant no seed controls.

const original = {
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
}

/** Immediates scheduled and not yet run or cleared. */
let pending = 0
const live = new WeakSet<object>()
let installs = 0
const realTimers: string[] = []

/** Whether a stack comes from the packages under test (not from the harness, vitest or node). */
function fromPackages(stack: string): boolean {
  return stack.split('\n').some((line) => line.includes('/packages/') && !line.includes('/node_modules/'))
}

function countingSetImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): NodeJS.Immediate {
  pending++
  const handle: NodeJS.Immediate = original.setImmediate(() => {
    if (live.has(handle)) {
      live.delete(handle)
      pending--
    }
    callback(...args)
  })
  live.add(handle)
  return handle
}

function countingClearImmediate(handle: NodeJS.Immediate | undefined): void {
  if (handle !== undefined && live.has(handle)) {
    live.delete(handle)
    pending--
  }
  original.clearImmediate(handle)
}

function guarded<F extends (...args: never[]) => unknown>(timer: F): F {
  return ((...args: Parameters<F>) => {
    const stack = new Error('real timer').stack ?? ''
    if (fromPackages(stack)) realTimers.push(stack)
    return timer(...args)
  }) as F
}

/**
 * Starts counting immediates and watching for real timers (nested installs are counted; the last uninstall
 * restores node's functions).
 */
export function installEventLoopWatch(): void {
  if (installs++ > 0) return
  pending = 0
  realTimers.length = 0
  globalThis.setImmediate = countingSetImmediate as typeof globalThis.setImmediate
  globalThis.clearImmediate = countingClearImmediate as typeof globalThis.clearImmediate
  globalThis.setTimeout = guarded(original.setTimeout) as unknown as typeof globalThis.setTimeout
  globalThis.setInterval = guarded(original.setInterval) as unknown as typeof globalThis.setInterval
}

/** Stops counting (see {@link installEventLoopWatch}). */
export function uninstallEventLoopWatch(): void {
  if (installs === 0 || --installs > 0) return
  globalThis.setImmediate = original.setImmediate
  globalThis.clearImmediate = original.clearImmediate
  globalThis.setTimeout = original.setTimeout
  globalThis.setInterval = original.setInterval
}

/** Immediates pending now (made by the code under test; the scheduler's own turns are not counted). */
export function pendingImmediates(): number {
  return pending
}

/** Stacks of the real timers the packages made since the watch was installed (each one is a determinism bug). */
export function realTimerStacks(): readonly string[] {
  return realTimers
}

/** One turn of the event loop that the count does not see (the scheduler's own). */
export function uncountedTurn(): Promise<void> {
  return new Promise((resolve) => original.setImmediate(resolve))
}
