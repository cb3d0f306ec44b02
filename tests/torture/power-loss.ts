// One seeded torture run of @homedb/log on the simulated file system: several boots, each running a concurrent
// workload that ends in a power cut at a random call (or at rest), an injected I/O error (fault runs), or a clean
// close; after every boot the log is reopened and checked against the model (see log-model.ts). A run is a pure
// function of its seed: the same seed replays the same calls, crash and faults.
import { type Log, LogError, LogFailedError, openLog } from '@homedb/log'
import {
  type BitFlip,
  CRASH_MODES,
  type CrashMode,
  isInjected,
  type Rng,
  SIM_OPS,
  type SimCall,
  type SimErrorCode,
  SimFs,
  type SimOp,
  seededRng,
} from '@homedb/testkit'
import { type BootOutcome, checkRecovered, LogModel, makePayload, TortureFailure } from './log-model.js'
import { runWorkload, type WorkloadContext } from './log-workload.js'

/** What a run (or a campaign of runs) did. */
export interface RunStats {
  runs: number
  boots: number
  /** Power cuts: at a random call in the middle of the workload, or at rest after it. */
  crashes: number
  crashesMidCall: number
  crashModes: Record<CrashMode, number>
  /** Crashes that also flipped durable bits, and how the next boot handled them. */
  flipCrashes: number
  refusals: number
  readCorrupt: number
  snapshotLost: number
  knownLimit: number
  harmlessFlips: number
  /** Injected I/O errors that fired, per operation. */
  faults: number
  faultsByOp: Record<SimOp, number>
  /** Faults that hit a writing operation, and so left the log failed-stop. */
  failStops: number
  restarts: number
  cleanCloses: number
  /** Commits appended, and acknowledged by a resolved `sync()`. */
  appends: number
  syncs: number
  snapshots: number
  reads: number
  encoded: number
  /** Calls the log made to the simulated file system. */
  fsCalls: number
  /** Runs on a simulated file system that gives O_DSYNC writes (the others fdatasync each batch). */
  dsyncRuns: number
  /** Boots that opened the log without preallocated segments ({@link layoutFor}). */
  unpreallocatedBoots: number
}

/** Zeroed stats. */
export function emptyStats(): RunStats {
  return {
    runs: 0,
    boots: 0,
    crashes: 0,
    crashesMidCall: 0,
    crashModes: Object.fromEntries(CRASH_MODES.map((m) => [m, 0])) as Record<CrashMode, number>,
    flipCrashes: 0,
    refusals: 0,
    readCorrupt: 0,
    snapshotLost: 0,
    knownLimit: 0,
    harmlessFlips: 0,
    faults: 0,
    faultsByOp: Object.fromEntries(SIM_OPS.map((op) => [op, 0])) as Record<SimOp, number>,
    failStops: 0,
    restarts: 0,
    cleanCloses: 0,
    appends: 0,
    syncs: 0,
    snapshots: 0,
    reads: 0,
    encoded: 0,
    fsCalls: 0,
    dsyncRuns: 0,
    unpreallocatedBoots: 0,
  }
}

/** Adds `b` into `a`. */
export function addStats(a: RunStats, b: RunStats): void {
  for (const key of Object.keys(a) as (keyof RunStats)[]) {
    const value = a[key]
    if (typeof value === 'number') (a[key] as number) = value + (b[key] as number)
    else {
      const into = value as Record<string, number>
      for (const [k, v] of Object.entries(b[key] as Record<string, number>)) into[k] = (into[k] ?? 0) + v
    }
  }
}

/** Options of {@link runLogSeed}. */
export interface RunOptions {
  /** Inject I/O errors (fault runs) besides power cuts. */
  faults: boolean
  /** Probability that a crash also flips durable bits. Default 0.04. */
  flipProbability?: number
  /** Whether the simulated file system gives O_DSYNC writes; default: decided by the seed ({@link dsyncFor}). */
  dsync?: boolean
}

/**
 * Whether a seed's simulated file system gives O_DSYNC writes (three seeds in four) or not, as on a platform without
 * it (the log then fdatasyncs each batch): both ways 'fsync' mode makes a batch durable run in every campaign. Taken
 * from the seed, not the run's generator, so the generator's draws are the same either way.
 */
export function dsyncFor(seed: number): boolean {
  return Math.imul(seed, 0x9e3779b1) >>> 30 !== 0
}

/**
 * How boot `boot` of seed `seed` opens the log: with preallocated segments or without (one boot in four), and with
 * the newest batches kept in memory for reads or not (one in four), so a run reopens the same files both ways
 * (FORMAT.md › Writing). Taken from the seed and the boot, not the run's generator, like {@link dsyncFor}.
 */
export function layoutFor(seed: number, boot: number): { preallocate: boolean; keepRecentBytes: number } {
  const bits = Math.imul(seed ^ Math.imul(boot, 0x85ebca6b), 0x9e3779b1) >>> 28
  return { preallocate: (bits & 3) !== 0, keepRecentBytes: (bits & 12) !== 0 ? 1024 * 1024 : 0 }
}

/** The command that replays `seed` of a log run (or, with `family: 'tables'`, of a tables run). */
export function replayCommand(seed: number, faults: boolean, family: 'log' | 'tables' = 'log'): string {
  return `npx -y pnpm@10.34.8 torture --${family} --seed ${seed}${faults ? ' --faults' : ' --power-loss'}`
}

/** The log directory of a run: one per seed, so that nothing one run leaves behind (a lock) can touch another. */
const dirOf = (seed: number) => `/db/log-${seed}`
const WATCHDOG_MS = 60_000

/** Operations whose failure must leave the log failed-stop: everything that writes, creates, renames or deletes. */
function mustFailStop(call: SimCall): boolean {
  if (call.op === 'open') return call.mode !== 'r'
  if (call.op === 'unlink') return !call.path.endsWith('.tmp') // removing a leftover temp file is best effort
  return ['write', 'datasync', 'sync', 'truncate', 'rename', 'syncDir', 'mkdir'].includes(call.op)
}

function describeCall(call: SimCall): string {
  const short = (path: string) => path.replace(/^\/db\/log-\d+\//, '')
  return `${call.op}(${short(call.path)}${call.mode ? `, ${call.mode}` : ''}${call.to ? ` -> ${short(call.to)}` : ''})`
}

function withWatchdog<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TortureFailure(`${what} did not finish within ${WATCHDOG_MS} ms (hang)`)),
      WATCHDOG_MS,
    )
    timer.unref()
  })
  return Promise.race([promise, watchdog]).finally(() => clearTimeout(timer))
}

/** Operations a running log performs, with how far into the workload a fault on them may be armed. */
const WORKLOAD_FAULTS: readonly [SimOp, number][] = [
  ['write', 40],
  ['datasync', 30],
  ['read', 40],
  ['size', 20],
  ['open', 12],
  ['syncDir', 4],
  ['unlink', 4],
  ['rename', 2],
  ['sync', 2],
]

/** Arms one fault: during open any operation (open touches all of them), during the workload one it performs. */
function armRandomFault(fs: SimFs, rng: Rng, phase: 'open' | 'workload'): void {
  const [op, maxNth] = phase === 'open' ? [rng.pick(SIM_OPS), 6] : rng.pick(WORKLOAD_FAULTS)
  const code: SimErrorCode = rng.pick(['EIO', 'ENOSPC'])
  fs.arm({
    op,
    code,
    nth: rng.int(1, maxNth),
    torn: op === 'write' && rng.chance(0.5),
    loseDirty: (op === 'datasync' || op === 'sync') && rng.chance(0.5),
  })
}

/**
 * Runs one seeded torture run and returns its stats; throws a {@link TortureFailure} naming the seed, the replay
 * command and the run's trace if the log broke a guarantee.
 */
export async function runLogSeed(seed: number, options: RunOptions): Promise<RunStats> {
  const trace: string[] = []
  const note = (line: string) => {
    trace.push(line)
    if (trace.length > 80) trace.shift()
  }
  const open = new Set<Log>()
  try {
    return await run(seed, options, note, open)
  } catch (error) {
    // Release whatever the failed run left open (its in-process lock above all), then report.
    for (const log of open) await log.close().catch(() => undefined)
    const message =
      error instanceof TortureFailure
        ? `${error.name}: ${error.message}`
        : error instanceof Error
          ? `${error.stack ?? error.message}${error.cause instanceof Error ? `\n  cause: ${error.cause.stack}` : ''}`
          : String(error)
    const failure = new TortureFailure(
      `seed ${seed} (${options.faults ? 'fault' : 'power-loss'} run) failed: ${message}\n` +
        `  replay: ${replayCommand(seed, options.faults)}\n  trace:\n    ${trace.join('\n    ')}`,
    )
    failure.cause = error
    throw failure
  }
}

async function run(seed: number, options: RunOptions, note: (line: string) => void, open: Set<Log>): Promise<RunStats> {
  const dir = dirOf(seed)
  const rng = seededRng(seed)
  const stats = emptyStats()
  stats.runs = 1
  const model = new LogModel()
  const segmentBytes = rng.pick([1024, 1536, 2048, 4096, 8192])
  const logId = Buffer.from(rng.bytes(16)).toString('hex')
  const flipProbability = options.flipProbability ?? 0.04
  const dsync = options.dsync ?? dsyncFor(seed)
  let fs = new SimFs(rng.fork(), { dsync })
  fs.putDir('/db')
  let flips: BitFlip[] = []
  const epochs = rng.int(2, 5)
  note(`segmentBytes ${segmentBytes}, ${epochs} boots, ${dsync ? 'O_DSYNC writes' : 'write + fdatasync'}`)
  if (dsync) stats.dsyncRuns++
  const countCalls = () => {
    stats.fsCalls += fs.counters.total
  }

  /** Power cut now: build the post-crash image and let the old process die. */
  const powerLoss = async (log: Log | undefined, midCall: boolean) => {
    const mode: CrashMode = rng.pick(CRASH_MODES)
    countCalls()
    const crashed = fs.crash(mode, rng.fork(), { flipProbability })
    const r = crashed.report
    note(
      `power cut (${mode}${midCall ? ` at ${describeCall(fs.crashedAt!)}` : ', at rest'}): kept ${r.keptDataOps}/${r.keptDataOps + r.droppedDataOps} data ops, ` +
        `${r.keptDirOps}/${r.keptDirOps + r.droppedDirOps} dir ops, torn ${r.tornWrites}, lock ${r.lock}` +
        (r.flips.length
          ? `, flipped ${r.flips.map((f) => `${f.path.replace(`${dir}/`, '')}@${f.offset}.${f.bit}`).join(' ')}`
          : ''),
    )
    stats.crashes++
    if (midCall) stats.crashesMidCall++
    stats.crashModes[mode]++
    // Media damage persists until a boot has been checked with it.
    flips = [...flips, ...r.flips]
    if (r.flips.length > 0) stats.flipCrashes++
    await log?.close().catch(() => undefined)
    fs = crashed.fs
  }

  /** Process restart without power loss: unsynced data stays unsynced. */
  const restart = async (log: Log | undefined) => {
    countCalls()
    const restarted = fs.restart(rng.fork())
    note(`process restart, lock ${restarted.lock}`)
    stats.restarts++
    await log?.close().catch(() => undefined)
    fs = restarted.fs
  }

  for (let boot = 1; boot <= epochs + 1; boot++) {
    const last = boot === epochs + 1
    stats.boots++
    // ---- open (maybe with a fault armed for the open itself)
    const faultDuringOpen = options.faults && !last && rng.chance(0.2)
    if (faultDuringOpen) armRandomFault(fs, rng, 'open')
    let log: Log
    const layout = layoutFor(seed, boot)
    if (!layout.preallocate || layout.keepRecentBytes === 0) note(`boot ${boot}: ${JSON.stringify(layout)}`)
    if (!layout.preallocate) stats.unpreallocatedBoots++
    try {
      log = await withWatchdog(
        openLog(dir, { fileLayer: fs, segmentBytes, durability: 'fsync', create: { logId }, ...layout }),
        'openLog',
      )
      open.add(log)
    } catch (error) {
      if (flips.length > 0 && error instanceof LogError && error.code === 'LOG_CORRUPT') {
        note(`open refused: ${error.message}`)
        stats.refusals++
        countCalls()
        return stats
      }
      const fired = fs.fired[0]
      if (!fired) throw error
      stats.faults++
      stats.faultsByOp[fired.spec.op]++
      note(`fault ${fired.spec.code} on ${describeCall(fired.call)} during open: ${(error as Error).message}`)
      if (!isInjected(error) || (error instanceof LogError && error.code === 'LOG_CORRUPT')) {
        throw new TortureFailure(`an injected ${fired.spec.code} during open surfaced as ${String(error)}`)
      }
      fs.disarm()
      if (rng.chance(0.5)) await restart(undefined)
      else await powerLoss(undefined, false)
      continue
    }
    if (faultDuringOpen) {
      const fired = fs.fired[0]
      if (fired) {
        throw new TortureFailure(`openLog succeeded although ${fired.spec.code} on ${describeCall(fired.call)} failed`)
      }
      fs.disarm()
    }

    // ---- check what survived
    let outcome: BootOutcome
    try {
      outcome = await withWatchdog(checkRecovered(log, fs, dir, model, flips), 'the recovery check')
    } catch (error) {
      await log.close().catch(() => undefined)
      throw error
    }
    note(
      `boot ${boot}: head ${log.head.seq}, start ${log.start.seq}, acked ${model.acked}, appended ${model.appended}, recovery ${JSON.stringify(log.recovery)} -> ${outcome}`,
    )
    if (outcome === 'read-corrupt' || outcome === 'snapshot-lost') {
      if (outcome === 'read-corrupt') stats.readCorrupt++
      else stats.snapshotLost++
      await log.close()
      countCalls()
      return stats
    }
    if (outcome === 'known-limit') stats.knownLimit++
    else if (flips.length > 0) stats.harmlessFlips++
    model.truncateTo(log.head.seq)
    if (flips.length > 0) {
      const latest = await log.latestSnapshot()
      model.snapshotAcked = latest ? { seq: latest.seq, chain: latest.chain } : undefined
    }
    flips = []
    await log.sync()
    model.ack(log.head.seq)
    if (last) {
      await log.close()
      countCalls()
      return stats
    }

    // ---- the workload, ending in a crash, a fault or a clean close
    const ending = rng.pick(
      options.faults
        ? (['fault', 'fault', 'fault', 'crash', 'close'] as const)
        : (['crash', 'crash', 'crash', 'crash-at-rest', 'close'] as const),
    )
    if (ending === 'crash') fs.crashAfterCalls(rng.int(1, rng.pick([20, 80, 300, 1000])))
    if (ending === 'fault') armRandomFault(fs, rng, 'workload')
    const ctx: WorkloadContext = {
      log,
      fs,
      model,
      epoch: boot,
      segmentBytes,
      holds: new Map(),
      snapshotBusy: false,
      snapshotDone: undefined,
      snapshotGeneration: 0,
      counts: { appends: 0, syncs: 0, snapshots: 0, reads: 0, encoded: 0 },
      note,
      unexpected: undefined,
    }
    await withWatchdog(runWorkload(ctx, rng.fork(), rng.int(1, 4), rng.int(5, 40)), 'the workload')
    stats.appends += ctx.counts.appends
    stats.syncs += ctx.counts.syncs
    stats.snapshots += ctx.counts.snapshots
    stats.reads += ctx.counts.reads
    stats.encoded += ctx.counts.encoded
    note(`workload ${ending}: ${JSON.stringify(ctx.counts)}, head ${log.head.seq}, acked ${model.acked}`)
    if (ctx.unexpected !== undefined) {
      await log.close().catch(() => undefined)
      throw ctx.unexpected
    }

    if (fs.isDead) {
      await powerLoss(log, true)
      continue
    }
    const fired = fs.fired[0]
    fs.disarm()
    if (fired && !log.failure && mustFailStop(fired.call)) {
      // The failed call may still be unwinding through the log (a roll's cleanup): let it finish, boundedly.
      for (let i = 0; i < 200 && !log.failure; i++) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (fired) {
      stats.faults++
      stats.faultsByOp[fired.spec.op]++
      note(
        `fault ${fired.spec.code}${fired.spec.torn ? ' (torn)' : ''}${fired.spec.loseDirty ? ' (dirty pages lost)' : ''} on ${describeCall(fired.call)}; log ${log.failure ? 'failed' : 'still writable'}`,
      )
      if (log.failure) {
        await expectFailStop(log)
        stats.failStops++
      } else if (mustFailStop(fired.call)) {
        throw new TortureFailure(
          `${fired.spec.code} on ${describeCall(fired.call)} did not leave the log failed-stop; the call came from\n${fired.stack}`,
        )
      }
      if (rng.chance(0.5)) await restart(log)
      else await powerLoss(log, false)
      continue
    }
    if (log.failure) throw new TortureFailure(`the log failed with no fault and no crash: ${log.failure.message}`)
    if (ending === 'close') {
      await withWatchdog(log.close(), 'close')
      if (log.failure) throw new TortureFailure(`close() failed the log: ${(log.failure as Error).message}`)
      model.ack(model.appended)
      stats.cleanCloses++
      note(`clean close at ${model.appended}`)
      continue
    }
    // At rest: a few appends the writer never waits for, then the power goes.
    for (let i = rng.int(0, 3); i > 0; i--) {
      const seq = log.head.seq + 1
      const payload = makePayload(seq, boot, 99, rng.int(0, 300))
      log.append(payload)
      model.recordAppend(seq, payload, log.head.chain)
    }
    if (rng.chance(0.5)) await new Promise<void>((resolve) => setImmediate(resolve))
    await powerLoss(log, false)
  }
  countCalls()
  return stats
}

/** A failed log refuses appends with LOG_FAILED and rejects `sync()` with it. */
async function expectFailStop(log: Log): Promise<void> {
  if (!(log.failure instanceof LogFailedError)) throw new TortureFailure(`log.failure is ${String(log.failure)}`)
  let appendError: unknown
  try {
    log.append(new Uint8Array(1))
  } catch (error) {
    appendError = error
  }
  if (!(appendError instanceof LogError) || appendError.code !== 'LOG_FAILED') {
    throw new TortureFailure(`append on a failed log did not throw LOG_FAILED: ${String(appendError)}`)
  }
  const syncError = await log.sync().then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!(syncError instanceof LogError) || syncError.code !== 'LOG_FAILED') {
    throw new TortureFailure(`sync on a failed log did not reject with LOG_FAILED: ${String(syncError)}`)
  }
}
