// `pnpm fuzz [--runs R] [--seed F] [--json]`: a fuzzing campaign of @homedb/log's decoders and directories (see
// fuzz-campaign.ts). Prints a one-line summary and every failure with its seed; exit code 1 if anything failed.
import { parseArgs } from 'node:util'
import { runFuzzCampaign } from './fuzz-campaign.js'

// `pnpm fuzz -- …` forwards a literal `--`: skip it.
const argv = process.argv.slice(2)
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: { runs: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean', default: false } },
  allowPositionals: false,
})

function int(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${value}`)
    process.exit(2)
  }
  return n
}

const runs = int(values.runs, 'runs', 200)
const seed = int(values.seed, 'seed', Math.floor(Math.random() * 2 ** 31))
const result = await runFuzzCampaign(runs, seed)
for (const f of result.failures) console.error(`\nFAILED ${f.property} (seed ${seed})\n${f.message}\n`)
const summary = `fuzz: ${result.cases} cases (${runs} runs per weight, seed ${seed}), ${result.failures.length} failures in ${(result.ms / 1000).toFixed(1)} s`
console.log(values.json ? JSON.stringify({ summary, ...result }) : summary)
process.exitCode = result.failures.length > 0 ? 1 : 0
