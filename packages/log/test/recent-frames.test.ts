// A writable log answers reads of its newest commits from the batches it keeps in memory (recent-frames.ts). Whatever
// it answers must be exactly what the files hold: a property test writes random batches (some bigger than what is
// kept, some across segment rolls and compactions) and compares every read of the writer with the same read of a
// read-only log of the same directory, which can only read the files.
import { tempDir } from '@homedb/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type FileLayer, type Log, nodeFileLayer, openLog } from '../src/index.js'
import { FrameType } from '../src/internal/format.js'
import { encodeFrame } from '../src/internal/frame-codec.js'
import { ARMED_MS, RecentFrames } from '../src/internal/recent-frames.js'

/** Every commit after `from`, as `seq:chain:payload-length:first-byte` (or the error code). */
async function readFrom(log: Log, from: number, encoded: boolean): Promise<string[] | string> {
  const out: string[] = []
  try {
    if (encoded)
      for await (const c of log.readEncoded({ from }))
        out.push(`${c.seq}:${c.chain}:${c.frame.byteLength}:${c.frame[28]}`)
    else
      for await (const c of log.read({ from })) out.push(`${c.seq}:${c.chain}:${c.payload.byteLength}:${c.payload[0]}`)
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
  return out
}

/** Counts segment file opens, to tell a read answered from memory from one that read the files. */
function countingOpens(): { layer: FileLayer; opens: () => number } {
  let opens = 0
  const layer: FileLayer = {
    ...nodeFileLayer,
    open: (path, mode, options) => {
      if (mode === 'r' && path.includes('segment-')) opens++
      return nodeFileLayer.open(path, mode, options)
    },
  }
  return { layer, opens: () => opens }
}

describe('reads of the newest commits from memory', () => {
  it('return exactly what the files hold, for any batches and any start (seeded property)', async () => {
    const seed = Number(process.env.HOMEDB_SEED ?? Date.now() % 1_000_000)
    console.log(`recent-frames property seed ${seed}`)
    const batch = fc.record({
      sizes: fc.array(
        fc.oneof({ weight: 20, arbitrary: fc.nat(300) }, { weight: 1, arbitrary: fc.constant(600_000) }),
        {
          minLength: 1,
          maxLength: 40,
        },
      ),
      compact: fc.boolean(),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(batch, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(1), { maxLength: 6 }),
        async (batches, picks) => {
          const dir = tempDir('recent')
          const writer = await openLog(dir, { durability: 'os', segmentBytes: 64 * 1024 })
          try {
            let n = 0
            for (const b of batches) {
              await readFrom(writer, writer.head.seq, true) // a reader at the head: the writer keeps its batches
              for (const size of b.sizes) writer.append(new Uint8Array(size).fill(++n % 251))
              await writer.sync()
              if (b.compact && writer.head.seq > 2) await writer.snapshot(new Uint8Array([1]), writer.head.seq - 2)
            }
            const reader = await openLog(dir, { readOnly: true })
            try {
              const head = writer.head.seq
              const starts = [
                0,
                writer.start.seq,
                head,
                head - 1,
                head - 7,
                ...picks.map((p) => Math.floor((head * p) / 2)),
              ]
              for (const from of starts.filter((s) => s >= 0)) {
                for (const encoded of [false, true]) {
                  expect(await readFrom(writer, from, encoded), `from ${from}`).toEqual(
                    await readFrom(reader, from, encoded),
                  )
                }
              }
            } finally {
              await reader.close()
            }
          } finally {
            await writer.close()
          }
        },
      ),
      { seed, numRuns: 25 },
    )
  }, 120_000)

  it('open no segment file to read what the writer wrote last, and read the files for older commits', async () => {
    const { layer, opens } = countingOpens()
    const log = await openLog(tempDir('recent'), { durability: 'os', fileLayer: layer })
    await readFrom(log, 0, true) // a reader at the head: the log keeps what it writes from now on
    for (let i = 1; i <= 50; i++) log.append(new Uint8Array(100).fill(i))
    await log.sync()
    const before = opens()
    expect((await readFrom(log, 45, true)).length).toBe(5)
    expect(opens(), 'the newest commits come from memory').toBe(before)
    for (let i = 51; i <= 12_000; i++) log.append(new Uint8Array(100).fill(i % 251)) // more than is kept
    await log.sync()
    expect((await readFrom(log, 10, false)).length).toBe(11_990)
    expect(opens(), 'older commits come from the files').toBeGreaterThan(before)
    await log.close()
  })
})

describe('keepRecentBytes', () => {
  it('0 keeps nothing: every read opens the files; a bad value is refused before any file is touched', async () => {
    const { layer, opens } = countingOpens()
    const log = await openLog(tempDir('recent'), { durability: 'os', fileLayer: layer, keepRecentBytes: 0 })
    await readFrom(log, 0, true)
    for (let i = 1; i <= 5; i++) log.append(new Uint8Array(10).fill(i))
    await log.sync()
    const before = opens()
    expect((await readFrom(log, 3, false)).length).toBe(2)
    expect(opens()).toBeGreaterThan(before)
    await log.close()
    for (const bad of [-1, 1.5, Number.NaN]) {
      const dir = `${tempDir('recent')}/never-made`
      await expect(openLog(dir, { keepRecentBytes: bad })).rejects.toMatchObject({ code: 'LOG_CONFIG' })
    }
  })
})

describe('RecentFrames', () => {
  it('keeps batches only while reads come: none before the first, none once reads stopped for ARMED_MS', () => {
    let now = 0
    const recent = new RecentFrames(10_000, () => now)
    recent.add(batchOf(0, 2), 0, 2)
    expect(recent.read(0, 2, false), 'nobody read before: nothing kept').toBeUndefined()
    recent.add(batchOf(2, 2), 2, 4)
    expect(recent.read(2, 4, false)?.map((c) => c.seq)).toEqual([3, 4])
    now += ARMED_MS + 1
    recent.add(batchOf(4, 1), 4, 5)
    expect(recent.read(4, 5, false), 'no read for ARMED_MS: nothing kept').toBeUndefined()
    recent.add(batchOf(5, 1), 5, 6)
    expect(recent.read(5, 6, false)?.map((c) => c.seq)).toEqual([6])
  })

  /** A batch of commit frames after `after` (seqs after+1 … after+count) whose payloads are one byte: the seq. */
  function batchOf(after: number, count: number, size = 10): Uint8Array {
    const frames: Uint8Array[] = []
    let chain = 0n
    for (let s = after + 1; s <= after + count; s++) {
      const encoded = encodeFrame(FrameType.commit, s, chain, new Uint8Array(size).fill(s % 256))
      frames.push(encoded.frame)
      chain = encoded.chain
    }
    return Buffer.concat(frames)
  }

  it('answers only ranges it holds whole, and forgets batches past its budget, oldest first', () => {
    const recent = new RecentFrames(200)
    recent.read(0, 0, false) // a reader: batches are kept from now on
    recent.add(batchOf(0, 3), 0, 3) // 3 × 38 bytes
    recent.add(batchOf(3, 2), 3, 5)
    expect(recent.read(0, 5, false)?.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5])
    expect(recent.read(2, 4, true)?.map((c) => c.seq)).toEqual([3, 4])
    expect(recent.read(4, 6, false), 'past what it holds').toBeUndefined()
    expect(recent.read(5, 5, false), 'nothing to read').toBeUndefined()
    recent.add(batchOf(5, 2), 5, 7) // over 200 bytes: the first batch goes
    expect(recent.read(0, 7, false), 'the oldest batch was dropped').toBeUndefined()
    expect(recent.read(3, 7, false)?.map((c) => c.seq)).toEqual([4, 5, 6, 7])
  })

  it('drops everything for a batch that does not continue the last one, or is bigger than its budget', () => {
    const recent = new RecentFrames(200)
    recent.read(0, 0, false)
    recent.add(batchOf(0, 2), 0, 2)
    recent.add(batchOf(5, 1), 5, 6) // a gap: seqs 3..5 are not kept
    expect(recent.read(0, 2, false)).toBeUndefined()
    expect(recent.read(5, 6, false)?.map((c) => c.seq)).toEqual([6])
    recent.add(batchOf(6, 1, 300), 6, 7)
    expect(recent.read(5, 6, false)).toBeUndefined()
    expect(recent.read(6, 7, false)).toBeUndefined()
  })
})
