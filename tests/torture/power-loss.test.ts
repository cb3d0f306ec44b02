// Seeded power-loss runs of @homedb/log on the simulated file system (see power-loss.ts): concurrent writers,
// snapshots, holds and reopens, cut at random calls; after each boot every acknowledged commit must be there.
import { describe, expect, it } from 'vitest'
import { addStats, emptyStats, runLogSeed } from './power-loss.js'
import { sampleSeeds } from './seeds.js'

describe('power loss at random points', () => {
  const seeds = sampleSeeds(1, 150)
  it(`keeps every acknowledged commit and snapshot across seeded power cuts (${seeds.length} seeds from ${seeds[0]})`, async () => {
    const stats = emptyStats()
    const failures: string[] = []
    for (const seed of seeds) {
      try {
        addStats(stats, await runLogSeed(seed, { faults: false }))
      } catch (error) {
        failures.push((error as Error).message)
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([])
    // The sample must actually exercise what it claims to.
    expect(stats.crashes).toBeGreaterThan(seeds.length)
    if (seeds.length >= 100) {
      expect(stats.crashesMidCall).toBeGreaterThan(seeds.length / 2)
      expect(Object.values(stats.crashModes).every((n) => n > 0)).toBe(true)
      expect(stats.snapshots).toBeGreaterThan(seeds.length)
      // Both ways 'fsync' mode makes a batch durable: an O_DSYNC write, and a write followed by an fdatasync.
      expect(stats.dsyncRuns).toBeGreaterThan(0)
      expect(stats.dsyncRuns).toBeLessThan(seeds.length)
      // Both segment layouts, in the same runs: preallocated and growing files.
      expect(stats.unpreallocatedBoots).toBeGreaterThan(0)
      expect(stats.unpreallocatedBoots).toBeLessThan(stats.boots)
    }
  })
})
