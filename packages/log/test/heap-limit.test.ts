// Replay streams: a log bigger than the reader's heap (160 MB of 64 KiB–1 MiB payloads) is read back, commit by
// commit, by a child process limited to a 64 MB old-space heap. The child's count, checksum and head must match
// what was written, and its memory must stay far below the size of the log. Seed: HOMEDB_TORTURE_SEED.
import { createHash } from 'node:crypto'
import { type Rng, tempDir, withSeed } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { openLog } from '../src/index.js'
import { runFixture } from './support/run-fixture.js'

const LOG_BYTES = 160 * 1024 * 1024
const SEGMENT_BYTES = 8 * 1024 * 1024
const MIN_PAYLOAD = 64 * 1024
const MAX_PAYLOAD = 1024 * 1024
const MiB = 1024 * 1024

/** 2 MiB of seeded noise; each payload is a window of it, stamped with its seq. */
function noise(rng: Rng): Buffer {
  const buf = Buffer.allocUnsafe(2 * MiB)
  for (let i = 0; i < buf.byteLength; i += 4) buf.writeUInt32LE((rng.next() * 2 ** 32) >>> 0, i)
  return buf
}

interface ReplayResult {
  count: number
  bytes: number
  sha256: string
  head: { seq: number; chain: string }
  baseRss: number
  peakRss: number
  peakArrayBuffers: number
  peakHeapUsed: number
}

describe('replaying a log larger than the heap', () => {
  it('streams 160 MB of commits through a reader limited to a 64 MB heap with matching count and checksum', async () => {
    const dir = tempDir('heap')
    await withSeed('heap-limit', async (rng) => {
      const source = noise(rng)
      const hash = createHash('sha256')
      const prefix = Buffer.alloc(12)
      const log = await openLog(dir, { durability: 'os', segmentBytes: SEGMENT_BYTES })
      let written = 0
      let count = 0
      let sinceSync = 0
      while (written < LOG_BYTES) {
        const length = rng.int(MIN_PAYLOAD, MAX_PAYLOAD)
        const payload = Buffer.allocUnsafe(length)
        const at = rng.int(0, source.byteLength - length)
        source.copy(payload, 0, at, at + length)
        const seq = log.head.seq + 1
        payload.writeUInt32LE(seq, 0)
        expect(log.append(payload)).toBe(seq)
        prefix.writeUInt32LE(seq, 0)
        prefix.writeUInt32LE(0, 4)
        prefix.writeUInt32LE(length, 8)
        hash.update(prefix)
        hash.update(payload)
        written += length
        count++
        sinceSync += length
        // Bound what the writer holds in memory: let each ~8 MB reach the OS before appending more.
        if (sinceSync >= SEGMENT_BYTES) {
          await log.sync()
          sinceSync = 0
        }
      }
      const head = log.head
      await log.close()
      const expected = hash.digest('hex')

      let line: string | undefined
      const child = runFixture(
        'replay.ts',
        [dir],
        (l) => {
          line = l
        },
        ['--max-old-space-size=64'],
      )
      const { code, signal, stderr } = await child.closed
      expect({ code, signal }, `replay child failed:\n${stderr}`).toEqual({ code: 0, signal: null })
      expect(line, 'the child printed its result').toBeDefined()
      const result = JSON.parse(line!) as ReplayResult
      expect(result.count).toBe(count)
      expect(result.bytes).toBe(written)
      expect(result.sha256).toBe(expected)
      expect(result.head).toEqual(head)
      // Streaming, not loading. The old-space limit does not cover payload bytes (ArrayBuffers live outside the
      // V8 heap), so check them directly: buffers alive at once, and the growth of the whole process, stay well
      // under the size of the log. (Tens of MB are normal: V8 frees unreferenced ArrayBuffers lazily.)
      const memory = `memory: ${JSON.stringify({ ...result, sha256: undefined })}`
      expect(result.peakHeapUsed, memory).toBeLessThan(64 * MiB)
      expect(result.peakArrayBuffers, memory).toBeLessThan(LOG_BYTES * 0.6)
      expect(result.peakRss - result.baseRss, memory).toBeLessThan(LOG_BYTES * 0.6)
    })
  }, 60_000)
})
