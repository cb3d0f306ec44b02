// `pnpm torture --seeds N [--first S] [--seed S] [--log | --tables] [--faults | --power-loss] [--json] [--quiet]`
// Runs a torture campaign of @homedb/log and @homedb/tables and prints a one-line summary (and every failure, with
// its replay command). By default every kind of run is made for each seed. Exit code 1 if anything failed.
// `pnpm torture --sim --seeds N [--first S] [--profile short|long] [--variant V]` runs the deterministic simulation
// of writers, homes, directory, movers and replicas instead (tests/sim/); `--sim --seed S --trace` replays one run
// and prints every event of it.
// Fuzzing of the log's decoders is a campaign of its own: `pnpm fuzz --runs R --seed F`.
import { parseArgs } from 'node:util'
import { runSimCli } from '../sim/sim-cli.js'
import { RUN_KINDS, type RunKind, runCampaign, summaryLine } from './campaign.js'

// `pnpm torture -- …` forwards a literal `--`: skip it.
const argv = process.argv.slice(2)
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    seeds: { type: 'string' },
    first: { type: 'string' },
    seed: { type: 'string' },
    faults: { type: 'boolean', default: false },
    'power-loss': { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
    tables: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    sim: { type: 'boolean', default: false },
    profile: { type: 'string' },
    variant: { type: 'string' },
    trace: { type: 'boolean', default: false },
  },
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

const single = values.seed !== undefined
const seeds = single ? 1 : int(values.seeds, 'seeds', 200)
const firstSeed = single ? int(values.seed, 'seed', 0) : int(values.first, 'first', Math.floor(Math.random() * 2 ** 31))

if (values.sim) process.exitCode = await runSimCli({ ...values, seeds, firstSeed, single })
else process.exitCode = await runTorture()

async function runTorture(): Promise<number> {
  const kinds: RunKind[] = RUN_KINDS.filter((kind) => {
    const tables = kind.startsWith('tables')
    const faults = kind.endsWith('faults')
    if (values.log !== values.tables && tables !== values.tables) return false
    if (values.faults !== values['power-loss'] && faults !== values.faults) return false
    return true
  })

  let lastProgress = 0
  const result = await runCampaign({
    seeds,
    firstSeed,
    kinds,
    onRun(done, total, failures) {
      if (values.quiet || performance.now() - lastProgress < 5000) return
      lastProgress = performance.now()
      process.stderr.write(`  ${done}/${total} runs, ${failures} failures\n`)
    },
  })

  for (const f of result.failures) console.error(`\nFAILED ${f.kind} seed ${f.seed}\n${f.message}\n`)
  if (values.json)
    console.log(JSON.stringify({ summary: summaryLine(result), stats: result.stats, failures: result.failures }))
  else console.log(summaryLine(result))
  return result.failures.length > 0 ? 1 : 0
}
