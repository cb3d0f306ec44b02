// Model-based property test: random sequences of every operation on every table kind, random transactions that
// throw midway, random reopens and random crashes (the last segment cut at a random byte at or after its length
// at the last sync, or an I/O error at a random file operation of a compaction), checked step by step against a
// plain in-memory model (support/model.ts; the harness is support/model-run.ts).
//
// Reproduce a failure with the seed fast-check prints: HOMEDB_FC_SEED=<seed> HOMEDB_FC_RUNS=<n>.
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { step } from './support/model.js'
import { runSteps } from './support/model-run.js'

const runs = Number(process.env.HOMEDB_FC_RUNS ?? 150)
const seedEnv = process.env.HOMEDB_FC_SEED

describe('model-based', () => {
  it('matches a plain in-memory model through random operations, transactions, reopens and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80, size: 'max' }), runSteps),
      seedEnv === undefined ? { numRuns: runs } : { numRuns: runs, seed: Number(seedEnv) },
    )
  }, 120_000)
})
