// `pnpm bench`: checks the peers, runs every selected workload × system in its own capped child process,
// prints the figures and writes the result JSON (and, with --report, bench/README.md and bench/charts/).
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, relative } from 'node:path'
import { type BenchArgs, parseArgs, USAGE } from './args.js'
import { checkPeers, reportPeerChecks } from './check-peers.js'
import { formatBytes, formatFigure, formatNumber, formatRatio } from './format.js'
import { machineInfo } from './machine.js'
import { writeReport } from './report.js'
import {
  type BenchResult,
  checkGoals,
  computeRatios,
  type GoalResult,
  type SystemResult,
  toSystemResult,
  type WorkloadMeta,
} from './result-file.js'
import { BENCH_DIR, killAllChildren, runSystem } from './run-system.js'
import { HIGHER_IS_BETTER, type Workload } from './workload.js'
import { WORKLOADS } from './workloads/index.js'

const DEFAULT_CAP_MS = { full: 120_000, quick: 30_000 }

function selectWorkloads(args: BenchArgs): Workload[] {
  const unknown = (args.only ?? []).filter((name) => !WORKLOADS.some((w) => w.name === name))
  if (unknown.length > 0) {
    throw new Error(`unknown workload(s): ${unknown.join(', ')} (known: ${WORKLOADS.map((w) => w.name).join(', ')})`)
  }
  const allSystems = new Set(WORKLOADS.flatMap((w) => Object.keys(w.systems)))
  const unknownSystems = (args.systems ?? []).filter((s) => !allSystems.has(s))
  if (unknownSystems.length > 0) {
    throw new Error(`unknown system(s): ${unknownSystems.join(', ')} (known: ${[...allSystems].join(', ')})`)
  }
  return WORKLOADS.filter((w) => args.only === undefined || args.only.includes(w.name))
}

function describe(entry: SystemResult, meta: WorkloadMeta): string {
  const value = entry[meta.unit]
  if (typeof value !== 'number') {
    return `${value}${entry.capMs === undefined ? '' : ` (cap ${entry.capMs / 1000} s)`}${entry.error ? `\n${entry.error}` : ''}`
  }
  const parts = [formatFigure(meta.unit, value)]
  if (entry.spread) parts.push(`spread ${(entry.spread.relative * 100).toFixed(1)}%`)
  if (entry.peakRssBytes !== undefined) parts.push(`peak RSS ${formatBytes(entry.peakRssBytes)}`)
  for (const [name, metric] of Object.entries(entry.metrics ?? {})) parts.push(`${name} ${formatNumber(metric)}`)
  parts.push(`${(entry.wallMs / 1000).toFixed(1)} s`)
  return parts.join('  ')
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  if (args.list) {
    for (const w of WORKLOADS) console.log(`${w.name} (${w.unit}): ${Object.keys(w.systems).join(', ')}`)
    return 0
  }
  const workloads = selectWorkloads(args)

  const runStart = performance.now()
  console.log('Checking peers...')
  if (!reportPeerChecks(await checkPeers())) return 1

  const mode = args.quick ? 'quick' : 'full'
  const results: Record<string, Record<string, SystemResult>> = {}
  const ratios: Record<string, number | null> = {}
  const goals: Record<string, GoalResult> = {}
  const meta: Record<string, WorkloadMeta> = {}
  let failures = 0
  for (const workload of workloads) {
    const params = workload.params(args.quick)
    const workloadMeta: WorkloadMeta = {
      title: workload.title,
      description: workload.description,
      unit: workload.unit,
      higherIsBetter: HIGHER_IS_BETTER[workload.unit],
      params,
      capMs: args.capMs ?? workload.capMs?.(args.quick) ?? DEFAULT_CAP_MS[mode],
      warmup: args.warmup ?? workload.warmup ?? 1,
      repeats: args.repeats ?? workload.repeats ?? (args.quick ? 3 : 5),
      ...(workload.budgetMs === undefined ? {} : { budgetMs: workload.budgetMs(args.quick) }),
      ratios: workload.ratios ?? {},
      ...(workload.goals === undefined ? {} : { goals: workload.goals }),
      ...(workload.notes === undefined ? {} : { notes: workload.notes }),
    }
    meta[workload.name] = workloadMeta
    console.log(`\n${workload.name}: ${workload.title} ${JSON.stringify(params)}`)
    const entries: Record<string, SystemResult> = {}
    for (const system of Object.keys(workload.systems)) {
      if (args.systems !== undefined && !args.systems.includes(system)) continue
      const outcome = await runSystem({
        workload: workload.name,
        system,
        params,
        capMs: workloadMeta.capMs,
        quick: args.quick,
        warmup: workloadMeta.warmup,
        repeats: workloadMeta.repeats,
        ...(workloadMeta.budgetMs === undefined ? {} : { budgetMs: workloadMeta.budgetMs }),
        tmpRoot: args.tmpRoot ?? os.tmpdir(),
      })
      if (outcome.status === 'failed') failures++
      const entry = toSystemResult(workload.unit, outcome)
      entries[system] = entry
      console.log(`  ${system.padEnd(20)} ${describe(entry, workloadMeta)}`)
    }
    results[workload.name] = entries
    const workloadRatios = computeRatios(workload.unit, workloadMeta.ratios, entries)
    for (const [name, ratio] of Object.entries(workloadRatios)) {
      ratios[name] = ratio
      console.log(`  ratio ${name}: ${formatRatio(ratio)}`)
    }
    for (const [name, goal] of Object.entries(
      checkGoals(workload.name, workload.goals ?? {}, workloadRatios, entries),
    )) {
      goals[name] = goal
      const verdict = goal.met === null ? 'n/a' : goal.met ? 'met' : 'MISSED'
      console.log(`  goal ${goal.text}: ${goal.value === null ? 'n/a' : formatNumber(goal.value)} ${verdict}`)
    }
  }

  const argv = process.argv.slice(2).filter((a) => a !== '--')
  const result: BenchResult = {
    workloads: results,
    ratios,
    goals,
    totalMs: Math.round(performance.now() - runStart),
    machine: machineInfo(),
    command: ['pnpm bench', ...argv].join(' '),
    quick: args.quick,
    meta,
  }
  const stamp = result.machine.date.replace(/[:.]/g, '-')
  const jsonPath = args.json ?? join(BENCH_DIR, 'results', `${stamp}-${mode}.json`)
  mkdirSync(dirname(jsonPath), { recursive: true })
  writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n')
  console.log(`\nTotal ${((result.totalMs ?? 0) / 1000).toFixed(0)} s. Wrote ${jsonPath}`)
  if (args.report) {
    const written = writeReport(result, BENCH_DIR)
    console.log(`Regenerated ${written.map((p) => relative(BENCH_DIR, p)).join(', ')}`)
  }
  if (failures > 0) console.error(`${failures} system run(s) failed; see the errors above.`)
  return failures > 0 ? 1 : 0
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllChildren()
    process.exit(130)
  })
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllChildren()
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  },
)
