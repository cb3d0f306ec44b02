// Regenerates bench/README.md and bench/charts/<workload>.svg from a bench result JSON, so the published
// figures always come from one real run. `pnpm --filter @homedb/bench report [result.json]` (default: newest
// file in bench/results/), or `pnpm bench --report` right after a run.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { renderChart } from './chart-svg.js'
import { formatBytes, formatFigure, formatNumber, formatRatio, unitLabel } from './format.js'
import type { BenchResult, GoalResult, SystemResult, WorkloadMeta } from './result-file.js'
import { BENCH_DIR } from './run-system.js'

/**
 * What the suite does not measure yet, and why: printed in every report so an absence is never mistaken for a
 * result.
 */
const NOT_MEASURED = [
  '## Not measured yet',
  '',
  '- **Replication over the network** (issue 7, workload 8): `@homedb/replication` has positions only, no ' +
    'transport to a home server yet. The `replication` workload measures what exists: a read-only follower ' +
    'process tailing the writer\u2019s log files, the tailing and applying path a network replica will reuse.',
  '',
]

/** The generated files: README text and one SVG per workload (by workload name). */
export interface RenderedReport {
  readonly readme: string
  readonly charts: Readonly<Record<string, string>>
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * A Markdown table with padded columns, laid out exactly as the repository's formatter (biome) would, so the
 * generated README passes `pnpm lint` unchanged. The first column is left-aligned, the others right-aligned.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows].map((row) => row.map(cell))
  const widths = header.map((_, c) => Math.max(3, ...all.map((row) => (row[c] ?? '').length)))
  const line = (row: readonly string[]): string =>
    `| ${widths.map((w, c) => (c === 0 ? (row[c] ?? '').padEnd(w) : (row[c] ?? '').padStart(w))).join(' | ')} |`
  const rule = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`
  return [line(all[0]!), rule, ...all.slice(1).map(line)]
}

function figureCell(entry: SystemResult, meta: WorkloadMeta): string {
  const value = entry[meta.unit]
  if (typeof value === 'number') return formatFigure(meta.unit, value)
  return entry.capMs === undefined ? String(value) : `${value}, cap ${entry.capMs / 1000} s`
}

function spreadCell(entry: SystemResult, meta: WorkloadMeta): string {
  if (!entry.spread) return ''
  const { min, max, relative } = entry.spread
  const runs = entry.samples?.length ?? meta.repeats
  const note = runs === meta.repeats ? '' : `, ${runs} run${runs === 1 ? '' : 's'}`
  if (runs === 1) return `single run${runs === meta.repeats ? '' : ' (budget)'}`
  return `${formatFigure(meta.unit, min)} – ${formatFigure(meta.unit, max)} (${(relative * 100).toFixed(1)}%${note})`
}

function goalTarget(goal: GoalResult): string {
  const parts: string[] = []
  if (goal.atLeast !== undefined) parts.push(`≥ ${formatNumber(goal.atLeast)}`)
  if (goal.atMost !== undefined) parts.push(`≤ ${formatNumber(goal.atMost)}`)
  return parts.join(', ')
}

/** The goals table: every goal of the run with its figure, its bound and whether it was met. */
function goalsSection(goals: Readonly<Record<string, GoalResult>>): string[] {
  const rows = Object.values(goals).map((goal) => [
    goal.text,
    goal.source,
    goal.value === null ? 'n/a' : formatNumber(goal.value),
    goalTarget(goal),
    goal.met === null ? 'n/a' : goal.met ? 'met' : '**missed**',
    goal.met === false ? (goal.whenMissed ?? 'see the workload’s notes') : '',
  ])
  if (rows.length === 0) return []
  const missed = Object.values(goals).filter((g) => g.met === false).length
  return [
    '## Goals',
    '',
    `${rows.length - missed} of ${rows.length} goals met in this run. Each is checked against the ratio or metric ` +
      'named in its workload’s section; beside a missed goal is what stands in the way, and the notes under each ' +
      'table say how the figures come about.',
    '',
    ...markdownTable(['goal', 'from', 'figure', 'target', 'result', 'why, when missed'], rows),
    '',
  ]
}

function workloadSection(
  name: string,
  meta: WorkloadMeta,
  entries: Readonly<Record<string, SystemResult>>,
  ratios: Readonly<Record<string, number | null>>,
): string {
  const metricNames = [...new Set(Object.values(entries).flatMap((e) => Object.keys(e.metrics ?? {})))]
  const header = [
    'system',
    `${unitLabel(meta.unit)} (median)`,
    'spread (min – max)',
    ...metricNames,
    'peak RSS',
    'child wall time',
  ]
  const lines = [
    `## ${name}: ${meta.title}`,
    '',
    meta.description,
    '',
    `Parameters \`${JSON.stringify(meta.params)}\`; ${meta.warmup} warm-up + ${meta.repeats} measured runs per system; ` +
      `cap ${meta.capMs / 1000} s per system` +
      (meta.budgetMs === undefined
        ? ''
        : ` (a system still running after ${meta.budgetMs / 1000} s stops repeating once it has one measured run)`) +
      `; ${meta.higherIsBetter ? 'higher' : 'lower'} is better.`,
    '',
    `![${name}](charts/${name}.svg)`,
  ]
  const rows: string[][] = []
  for (const [system, entry] of Object.entries(entries)) {
    rows.push([
      system,
      figureCell(entry, meta),
      spreadCell(entry, meta),
      ...metricNames.map((m) => {
        const v = entry.metrics?.[m]
        return v === undefined ? '' : formatNumber(v)
      }),
      entry.peakRssBytes === undefined ? '' : formatBytes(entry.peakRssBytes),
      `${(entry.wallMs / 1000).toFixed(1)} s`,
    ])
  }
  lines.push('', ...markdownTable(header, rows))
  const failed = Object.entries(entries).filter(([, e]) => e.error !== undefined)
  for (const [system, entry] of failed) {
    lines.push('', `\`${system}\` failed: \`${cell((entry.error ?? '').split('\n')[0] ?? '')}\``)
  }
  const ratioNames = Object.keys(meta.ratios).filter((r) => r in ratios)
  if (ratioNames.length > 0) {
    lines.push('', `Ratios: ${ratioNames.map((r) => `${r} **${formatRatio(ratios[r] ?? null)}**`).join('; ')}.`)
  }
  if (meta.notes !== undefined) lines.push('', meta.notes)
  return lines.join('\n')
}

/** Renders the README and the charts for a result (pure: writes nothing). */
export function renderReport(result: BenchResult): RenderedReport {
  const { machine } = result
  const charts: Record<string, string> = {}
  const sections: string[] = []
  for (const [name, entries] of Object.entries(result.workloads)) {
    const meta = result.meta[name]
    if (meta === undefined) continue
    charts[name] = renderChart(name, meta, entries)
    sections.push(workloadSection(name, meta, entries, result.ratios))
  }
  const ratioRows = Object.entries(result.ratios).map(([name, ratio]) => [name, formatRatio(ratio)])
  const readme = [
    '<!-- Generated by bench/src/report.ts from a bench result JSON: do not edit by hand. Regenerate with `pnpm bench --report`. -->',
    '# homedb benchmarks',
    '',
    'homedb and the embedded stores people choose between, run side by side on the same records. Every workload × ' +
      'system runs in its own child process with a time cap; each figure is the median of the measured runs after a ' +
      'discarded warm-up, with the min – max spread beside it. A system that ran past its cap shows ' +
      '"n/a (exceeded cap)", never an estimate. Peak RSS is the child process\u2019s `maxRSS` over its whole life ' +
      '(loader, warm-up and runs included).',
    '',
    `**Command:** \`${result.command}\`${result.quick ? ' (quick sizes: not the published figures)' : ''}`,
    '',
    `**Machine:** ${machine.cpus} × ${machine.model}, ${formatBytes(machine.memory)} RAM, Node ${machine.node}, ` +
      `${machine.os}; run at ${machine.date}` +
      (machine.loadAvg === undefined
        ? '.'
        : `; load average at the end ${machine.loadAvg.join(' / ')} (1 / 5 / 15 min)` +
          (result.totalMs === undefined ? '.' : `; the whole run took ${(result.totalMs / 60_000).toFixed(1)} min.`)),
    '',
    ...goalsSection(result.goals ?? {}),
    ...(ratioRows.length > 0
      ? [
          '## Ratios',
          '',
          'Figure of the first system divided by the figure of the second (the best of the listed ones where several ' +
            'are named). For throughput above 1 means the first is faster; for times, sizes and memory below 1 does.',
          '',
          ...markdownTable(['ratio', 'value'], ratioRows),
          '',
        ]
      : []),
    sections.join('\n\n'),
    '',
    '## Running the benchmarks',
    '',
    '```sh',
    'npx -y pnpm@10.34.8 install',
    'npx -y pnpm@10.34.8 bench --quick            # small sizes, well under 3 minutes',
    'npx -y pnpm@10.34.8 bench                    # full sizes',
    'npx -y pnpm@10.34.8 bench --only baseline-write --systems lmdb,better-sqlite3 --json /tmp/r.json',
    'npx -y pnpm@10.34.8 bench --report           # full run, then regenerate this README and charts/',
    'npx -y pnpm@10.34.8 --filter @homedb/bench check-peers   # load every peer, fail if a native module did not build',
    '```',
    '',
    'Results go to `bench/results/` (git-ignored) unless `--json FILE` is given; `--help` lists every option.',
    '',
    ...NOT_MEASURED,
    '## Adding a workload or a system',
    '',
    'A workload is one file in `bench/src/workloads/` exporting `defineWorkload({ name, title, description, unit, ' +
      'params(quick), systems, ratios?, capMs? })`, listed once in `bench/src/workloads/index.ts`. Each system is ' +
      '`async (params, ctx) => Sample`: it sets up untimed (stores go in `ctx.tmpDir()`, removed after the run), ' +
      'times only the measured part, and returns `{ value, metrics? }` in the workload\u2019s unit. Import the library ' +
      'under test inside the system function so each child process loads only what it measures. Adding a system is ' +
      'one more entry in `systems`; a new peer also goes into `bench/package.json` and, if native, into ' +
      '`bench/src/check-peers.ts` and `onlyBuiltDependencies`.',
    '',
  ].join('\n')
  return { readme, charts }
}

/** Writes README.md and charts/*.svg under `benchDir` (stale charts are removed); returns the paths written. */
export function writeReport(result: BenchResult, benchDir = BENCH_DIR): string[] {
  const { readme, charts } = renderReport(result)
  const chartDir = join(benchDir, 'charts')
  rmSync(chartDir, { recursive: true, force: true })
  mkdirSync(chartDir, { recursive: true })
  const written: string[] = []
  for (const [name, svg] of Object.entries(charts)) {
    const path = join(chartDir, `${name}.svg`)
    writeFileSync(path, svg)
    written.push(path)
  }
  const readmePath = join(benchDir, 'README.md')
  writeFileSync(readmePath, readme)
  written.unshift(readmePath)
  return written
}

function newestResult(): string {
  const dir = join(BENCH_DIR, 'results')
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
  if (files[0] === undefined) throw new Error(`no result JSON in ${dir}: run \`pnpm bench\` first`)
  return files[0]
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv.slice(2).find((a) => a !== '--')
  const file = arg === undefined ? newestResult() : resolve(process.env.INIT_CWD ?? process.cwd(), arg)
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult
  for (const path of writeReport(result)) console.log(`wrote ${path}`)
}
