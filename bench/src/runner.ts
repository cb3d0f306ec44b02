// Child-process entry: runs one workload × system (warm-ups, then repeats) and reports samples and peak RSS.
// Started by the parent as `node --conditions=@homedb/source --import tsx --expose-gc src/runner.ts <workload> <system>
// <params-json> <options-json>`; run by hand the same way it prints its reply as JSON instead of sending it.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import type { RunnerMessage, RunnerOptions } from './child-protocol.js'
import type { Params, RunContext, Sample } from './workload.js'
import { findWorkload } from './workloads/index.js'

async function runAll(argv: readonly string[]): Promise<RunnerMessage> {
  const [workloadName, systemName, paramsJson, optionsJson] = argv
  if (workloadName === undefined || systemName === undefined) {
    throw new Error('usage: runner.ts <workload> <system> [params-json] [options-json]')
  }
  const workload = findWorkload(workloadName)
  if (workload === undefined) throw new Error(`unknown workload "${workloadName}"`)
  const system = workload.systems[systemName]
  if (system === undefined) throw new Error(`workload "${workloadName}" has no system "${systemName}"`)
  const options: RunnerOptions = {
    quick: false,
    warmup: 1,
    repeats: 3,
    tmpRoot: os.tmpdir(),
    ...(optionsJson === undefined ? {} : (JSON.parse(optionsJson) as Partial<RunnerOptions>)),
  }
  const params = paramsJson === undefined ? workload.params(options.quick) : (JSON.parse(paramsJson) as Params)

  let childDir: string | undefined
  const samples: Sample[] = []
  const total = options.warmup + options.repeats
  const started = performance.now()
  for (let run = 0; run < total; run++) {
    if (options.budgetMs !== undefined && samples.length > 0 && performance.now() - started > options.budgetMs) break
    const dirs: string[] = []
    const ctx: RunContext = {
      quick: options.quick,
      run,
      warmup: run < options.warmup,
      tmpDir() {
        const dir = mkdtempSync(join(options.tmpRoot, `run${run}-`))
        dirs.push(dir)
        return dir
      },
      childDir() {
        childDir ??= mkdtempSync(join(options.tmpRoot, 'child-'))
        return childDir
      },
    }
    try {
      const sample = await system(params, ctx)
      if (!Number.isFinite(sample.value)) throw new Error(`system returned a non-finite value: ${sample.value}`)
      if (!ctx.warmup) samples.push(sample)
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    }
    ;(globalThis as { gc?: () => void }).gc?.()
  }
  if (childDir !== undefined) rmSync(childDir, { recursive: true, force: true })
  return { type: 'result', samples, maxRssBytes: process.resourceUsage().maxRSS * 1024 }
}

function reply(message: RunnerMessage): void {
  const code = message.type === 'result' ? 0 : 1
  if (process.send === undefined) {
    console.log(JSON.stringify(message, null, 2))
    process.exit(code)
  }
  process.send(message, () => process.exit(code))
}

runAll(process.argv.slice(2)).then(reply, (error: unknown) =>
  reply({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
)
