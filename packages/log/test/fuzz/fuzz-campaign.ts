// A fuzzing campaign: every fuzz property of fuzz/ with a number of runs weighted by how cheap it is, one fast-check
// seed, failures collected rather than thrown. `pnpm fuzz` (cli.ts) runs it; fuzz.test.ts runs a small sample.
import fc from 'fast-check'
import { frameProperties, headerProperties, lockProperties, snapshotFileProperties } from './decoder-properties.js'
import { appendEncodedProperties, directoryProperties } from './directory-properties.js'

/** What a campaign did. */
export interface FuzzResult {
  readonly seed: number
  readonly cases: number
  readonly failures: readonly { readonly property: string; readonly message: string }[]
  readonly ms: number
}

type AnyProperty = fc.IProperty<never> | fc.IAsyncProperty<never>

/** Every fuzz property by name, with its weight (runs per unit of `runs`). */
function fuzzProperties(): [string, AnyProperty, number][] {
  const out: [string, AnyProperty, number][] = []
  const add = (group: string, props: Record<string, unknown>, weight: number) => {
    for (const [name, p] of Object.entries(props)) out.push([`${group}.${name}`, p as AnyProperty, weight])
  }
  add('frame', frameProperties(), 10)
  add('header', headerProperties(), 5)
  add('lock', lockProperties(), 5)
  add('snapshotFile', snapshotFileProperties(), 2)
  add('directory', directoryProperties(), 1)
  add('appendEncoded', appendEncodedProperties(), 2)
  return out
}

/** Runs every property `runs × weight` times with fast-check seed `seed`; never throws for a broken property. */
export async function runFuzzCampaign(runs: number, seed: number): Promise<FuzzResult> {
  const started = performance.now()
  const failures: { property: string; message: string }[] = []
  let cases = 0
  for (const [name, property, weight] of fuzzProperties()) {
    const result = await fc.check(property as fc.IAsyncProperty<never>, { numRuns: runs * weight, seed })
    cases += result.numRuns
    if (result.failed) failures.push({ property: name, message: fc.defaultReportMessage(result) ?? 'failed' })
  }
  return { seed, cases, failures, ms: performance.now() - started }
}
