import { runSimSeed } from '/work/wt-sim/tests/sim/run-seed.js'

const seed = Number(process.argv[2] ?? 1)
const profile = (process.argv[3] ?? 'short') as 'short' | 'long'
const t = performance.now()
const r = await runSimSeed(seed, { profile })
console.log(JSON.stringify(r.config))
console.log(
  r.trace.slice(Number(process.env.FROM ?? -40), process.env.TO ? Number(process.env.TO) : undefined).join('\n'),
)
console.log('FAILURE:', r.failure)
console.log('stats', JSON.stringify(r.stats))
console.log('ms', (performance.now() - t).toFixed(0), 'trace lines', r.trace.length)
