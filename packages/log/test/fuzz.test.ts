// Fuzzing of every decoder of untrusted bytes in @homedb/log (see fuzz/): a bounded sample per run; long campaigns
// run `pnpm fuzz` (fuzz/cli.ts). The fast-check seed is printed with any counterexample; pin it with
// HOMEDB_FUZZ_SEED to replay.
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { frameProperties, headerProperties, lockProperties, snapshotFileProperties } from './fuzz/decoder-properties.js'
import { appendEncodedProperties, directoryProperties } from './fuzz/directory-properties.js'

const pinned = process.env.HOMEDB_FUZZ_SEED
const seed = pinned !== undefined && pinned !== '' ? Number(pinned) : undefined
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(seed === undefined ? {} : { seed }) })

describe('fuzzing the frame decoder', () => {
  const p = frameProperties()
  it('never throws on arbitrary bytes at any offset and only returns frames inside the bounds', () => {
    fc.assert(p.arbitraryBytes, params(2000))
  })
  it('decodes every valid frame back to its type, seq, chain and payload', () => {
    fc.assert(p.roundTrip, params(500))
  })
  it('detects every single flipped bit of a frame', () => {
    fc.assert(p.singleBitFlipIsDetected, params(2000))
  })
  it('never decodes a truncated, spliced or overwritten frame as another valid frame', () => {
    fc.assert(p.mutationsNeverForge, params(2000))
  })
  it('treats a length past the end (up to 0xFFFFFFFF) as damage, never as a frame', () => {
    fc.assert(p.hugeLengthsAreDamage, params(500))
  })
})

describe('fuzzing the header and trailer decoders', () => {
  const p = headerProperties()
  it('returns a problem, never throws, for arbitrary segment header bytes', () => {
    fc.assert(p.segmentArbitrary, params(1000))
  })
  it('round-trips segment headers and detects any flipped header bit', () => {
    fc.assert(p.segmentRoundTripAndFlips, params(1000))
  })
  it('survives truncated, spliced and overwritten segment headers', () => {
    fc.assert(p.segmentMutations, params(1000))
  })
  it('returns a problem, never throws, for arbitrary snapshot header bytes', () => {
    fc.assert(p.snapshotHeaderArbitrary, params(1000))
  })
  it('round-trips snapshot headers and detects any flipped header bit', () => {
    fc.assert(p.snapshotHeaderFlips, params(1000))
  })
  it('rejects arbitrary snapshot trailers and any flipped checksummed trailer bit', () => {
    fc.assert(p.trailerArbitrary, params(1000))
    fc.assert(p.trailerFlips, params(1000))
  })
})

describe('fuzzing the lock file parser', () => {
  it('returns a well-typed holder or undefined for arbitrary bytes, JSON and deep nesting', () => {
    fc.assert(lockProperties().neverThrows, params(1000))
  })
})

describe('fuzzing whole files and directories', () => {
  it('accepts a snapshot file only if it is complete, reading no more than the file holds', async () => {
    await fc.assert(snapshotFileProperties().mutatedFiles, params(400))
  })
  it('opens, reads and verifies fuzzed log directories with typed errors only, bounded time and memory', async () => {
    await fc.assert(directoryProperties().fuzzedDirectories, params(200))
  })
  it('appends received frames all or nothing and rejects damaged ones with a typed error', async () => {
    const p = appendEncodedProperties()
    await fc.assert(p.mutatedFrames, params(400))
    await fc.assert(p.arbitraryValues, params(300))
  })
})
