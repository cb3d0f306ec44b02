// Seeded fault runs of @homedb/log on the simulated file system (see power-loss.ts): EIO and ENOSPC on any
// operation; every failed write leaves the log failed-stop, and a reboot (restart or power cut) opens it correctly.
import { describe, expect, it } from 'vitest'
import { addStats, emptyStats, runLogSeed } from './power-loss.js'
import { sampleSeeds } from './seeds.js'

describe('injected I/O errors', () => {
  const seeds = sampleSeeds(1, 120)
  it(`leaves the log failed-stop and reopenable to a correct state (${seeds.length} seeds from ${seeds[0]})`, async () => {
    const stats = emptyStats()
    const failures: string[] = []
    for (const seed of seeds) {
      try {
        addStats(stats, await runLogSeed(seed, { faults: true }))
      } catch (error) {
        failures.push((error as Error).message)
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([])
    expect(stats.faults).toBeGreaterThan(0)
    if (seeds.length >= 100) {
      expect(stats.faults).toBeGreaterThan(seeds.length)
      expect(stats.failStops).toBeGreaterThan(seeds.length / 2)
      expect(stats.restarts).toBeGreaterThan(0)
    }
  })
})
