// Reads remember checkpoints (offset, seq, chain) in the segments they scan, so reading the newest commits again
// and again does not rescan the segment from its header. Whatever the order of reads, they return exactly what a
// fresh open reads, across rolls and compaction.
import { seededRng, tempDir, wrapFileLayer } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { nodeFileLayer, openLog } from '../src/index.js'

async function collect(log: Awaited<ReturnType<typeof openLog>>, from: number): Promise<string[]> {
  const out: string[] = []
  for await (const c of log.readEncoded({ from }))
    out.push(`${c.seq}:${c.chain}:${Buffer.from(c.frame).toString('hex')}`)
  return out
}

describe('read checkpoints', () => {
  it('give the same commits as a fresh open for reads from any seq, in any order, across rolls and compaction', async () => {
    const dir = tempDir()
    const log = await openLog(dir, { segmentBytes: 4096 })
    const rng = seededRng(20_261_127)
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 300; i++) log.append(new Uint8Array(rng.int(0, 40)).fill(rng.int(0, 255)))
      await log.sync()
      if (round === 3) await log.snapshot(new Uint8Array([1]))
      const fresh = await openLog(dir, { readOnly: true })
      for (let k = 0; k < 20; k++) {
        const from = rng.int(log.start.seq, log.head.seq)
        expect(await collect(log, from)).toEqual(await collect(fresh, from))
      }
      await fresh.close()
    }
    await log.close()
  })

  it('reads the newest commits of a long segment without rescanning it', async () => {
    let bytesRead = 0
    const counting = wrapFileLayer(nodeFileLayer, {
      handle: (handle) => ({
        async read(buffer, offset, length, position) {
          const n = await handle.read(buffer, offset, length, position)
          bytesRead += n
          return n
        },
      }),
    })
    const log = await openLog(tempDir(), { fileLayer: counting })
    for (let i = 0; i < 20_000; i++) log.append(new Uint8Array(20))
    await log.sync()
    await collect(log, 10_000)
    // Reads after a checkpoint touch only the frames after it (the segment is ~1 MB).
    bytesRead = 0
    expect((await collect(log, 19_990)).length).toBe(10)
    expect(bytesRead).toBeLessThan(64 * 1024)
    expect((await collect(log, 19_999)).length).toBe(1)
    expect((await collect(log, 64)).length).toBe(19_936)
    await log.close()
  })
})
