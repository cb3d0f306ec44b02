// Parent side of one measurement: spawns the child runner, enforces the time cap and collects its reply.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RunnerMessage, type RunnerOptions, runnerArgs } from './child-protocol.js'
import type { Params, Sample } from './workload.js'

/** The directory of the bench package (the child runs there so `--import tsx` resolves). */
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUNNER = join(BENCH_DIR, 'src', 'runner.ts')

/** What happened to one workload × system child process. */
export type SystemOutcome =
  | {
      readonly status: 'ok'
      readonly samples: readonly Sample[]
      readonly peakRssBytes: number
      /** Wall time of the whole child process (start-up, warm-ups and repeats). */
      readonly wallMs: number
    }
  | { readonly status: 'exceeded-cap'; readonly capMs: number; readonly wallMs: number }
  | { readonly status: 'failed'; readonly error: string; readonly wallMs: number }

/** Everything needed to run one workload × system. */
export interface RunSystemRequest extends RunnerOptions {
  readonly workload: string
  readonly system: string
  readonly params: Params
  /** The child is killed (SIGKILL, whole process group) once it has run this long. */
  readonly capMs: number
}

const live = new Set<ChildProcess>()

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

/** Kills every child still running (used when the parent is interrupted). */
export function killAllChildren(): void {
  for (const child of live) killGroup(child)
}

/**
 * Runs one workload × system in a fresh child process under the time cap. Never rejects. The child's stores live in
 * a directory of its own that is removed when it exits, even if it was killed mid-run.
 */
export function runSystem(request: RunSystemRequest): Promise<SystemOutcome> {
  const { workload, system, params, capMs, ...rest } = request
  const start = performance.now()
  let childRoot: string
  try {
    childRoot = mkdtempSync(join(rest.tmpRoot, `homedb-bench-${workload}-${system}-`))
  } catch (error) {
    return Promise.resolve({ status: 'failed', error: String(error), wallMs: performance.now() - start })
  }
  const options = { ...rest, tmpRoot: childRoot }
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@homedb/source',
        '--import',
        'tsx',
        '--expose-gc',
        RUNNER,
        ...runnerArgs(workload, system, params, options),
      ],
      { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true },
    )
    live.add(child)
    let message: RunnerMessage | undefined
    let timedOut = false
    const timer = setTimeout(() => {
      if (message?.type === 'result') return // finished in time, only exiting
      timedOut = true
      killGroup(child)
    }, capMs)
    child.on('message', (m) => {
      message = m as RunnerMessage
    })
    const finish = (outcome: SystemOutcome): void => {
      clearTimeout(timer)
      live.delete(child)
      rmSync(childRoot, { recursive: true, force: true })
      resolve(outcome)
    }
    child.on('error', (error) => finish({ status: 'failed', error: error.message, wallMs: performance.now() - start }))
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - start
      if (timedOut) return finish({ status: 'exceeded-cap', capMs, wallMs })
      if (message?.type === 'result') {
        return finish({ status: 'ok', samples: message.samples, peakRssBytes: message.maxRssBytes, wallMs })
      }
      const error = message?.type === 'error' ? message.message : `child exited with ${signal ?? `code ${code}`}`
      finish({ status: 'failed', error, wallMs })
    })
  })
}
