// Preallocated segments (FORMAT.md › Writing): a new segment file is given its full `segmentBytes` up front and the
// writer overwrites the zeros, so a durable write does not change the file's size. These tests pin what that means
// for the files (the zeros, a sealed segment cut to its data), for every reader (recovery, verifyLog, a follower) and
// for the option that turns it off.
import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { openLog, verifyLog } from '../src/index.js'
import { SEGMENT_HEADER_BYTES } from '../src/internal/format.js'
import { bytes, readAll } from './support/text-commits.js'

const SEGMENT_BYTES = 4096

const segmentFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.startsWith('segment-'))
    .sort()
    .map((n) => join(dir, n))

/** Appends `count` commits `c1`, `c2`, … one sync each. */
async function fill(log: Awaited<ReturnType<typeof openLog>>, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    log.append(bytes(`c${log.head.seq + 1}`))
    await log.sync()
  }
}

describe('preallocated segments', () => {
  it('give a new segment its full length: the header, the frames, then zeros', async () => {
    const dir = tempDir('prealloc')
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    const [file] = segmentFiles(dir)
    expect(statSync(file!).size, 'preallocated at creation').toBe(SEGMENT_BYTES)
    await fill(log, 5)
    await log.close()
    const data = readFileSync(file!)
    expect(data.byteLength, 'writing does not change the size').toBe(SEGMENT_BYTES)
    const end = (await verifyLog(dir)).segments[0]!.bytes
    expect(end).toBeGreaterThan(SEGMENT_HEADER_BYTES)
    expect(
      data.subarray(end).every((b) => b === 0),
      'zeros after the frames',
    ).toBe(true)
  })

  it('reopen after a clean close without cutting anything and keep appending in place', async () => {
    const dir = tempDir('prealloc')
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    await fill(log, 5)
    await log.close()
    const again = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    expect(again.recovery).toEqual({ truncatedBytes: 0, droppedCommits: 0 })
    expect(again.head.seq).toBe(5)
    await fill(again, 3)
    await again.close()
    const report = await verifyLog(dir)
    expect(report.ok).toBe(true)
    expect(report.damage).toEqual([])
    const reader = await openLog(dir, { readOnly: true })
    expect((await readAll(reader)).map(([, t]) => t)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'])
    await reader.close()
    expect(statSync(segmentFiles(dir)[0]!).size).toBe(SEGMENT_BYTES)
  })

  it('cut a segment sealed by a roll for compaction to its data, and preallocate the next one', async () => {
    const dir = tempDir('prealloc')
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    await fill(log, 5)
    await log.snapshot(bytes('state at 5')) // seals the active segment early so that it can be released later
    await fill(log, 2)
    await log.close()
    const report = await verifyLog(dir)
    expect(report.ok).toBe(true)
    const files = segmentFiles(dir)
    const sealed = report.segments.filter((s) => s.sealed)
    for (const s of sealed) expect(statSync(join(dir, s.file)).size, `${s.file} holds its data only`).toBe(s.bytes)
    expect(statSync(files.at(-1)!).size, 'the new active segment is preallocated').toBe(SEGMENT_BYTES)
  })

  it('read zeros after a seal (a crash lost the cut of a sealed segment) as the end of that segment', async () => {
    const dir = tempDir('prealloc')
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    while (segmentFiles(dir).length < 2) await fill(log, 1)
    const head = log.head.seq
    await fill(log, 3)
    await log.close()
    const sealed = segmentFiles(dir)[0]!
    const dataBytes = statSync(sealed).size
    truncateSync(sealed, dataBytes + 3000) // zeros after the seal, as a lost cut leaves them
    const report = await verifyLog(dir)
    expect(report.damage).toEqual([])
    expect(report.segments[0]).toMatchObject({ bytes: dataBytes, sealed: true })
    const again = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    expect(again.recovery.truncatedBytes).toBe(0)
    expect((await readAll(again)).map(([s]) => s)).toEqual(Array.from({ length: head + 3 }, (_, i) => i + 1))
    await again.close()
  })

  it('are preallocated at a writable open when the active segment was written without it', async () => {
    const dir = tempDir('prealloc')
    const old = await openLog(dir, { segmentBytes: SEGMENT_BYTES, preallocate: false })
    await fill(old, 3)
    await old.close()
    const [file] = segmentFiles(dir)
    const dataBytes = statSync(file!).size
    expect(dataBytes, 'preallocate: false writes only the data').toBeLessThan(SEGMENT_BYTES)
    const reader = await openLog(dir, { readOnly: true })
    await reader.close()
    expect(statSync(file!).size, 'a read-only open changes nothing').toBe(dataBytes)
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    expect(log.recovery.truncatedBytes).toBe(0)
    expect(statSync(file!).size).toBe(SEGMENT_BYTES)
    await fill(log, 2)
    await log.close()
    expect((await verifyLog(dir)).ok).toBe(true)
  })

  it('are not made with preallocate: false, and a bad value is refused before any file is touched', async () => {
    const dir = tempDir('prealloc')
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES, preallocate: false })
    await fill(log, 2)
    const [file] = segmentFiles(dir)
    expect(statSync(file!).size).toBe((await verifyLog(dir)).segments[0]!.bytes)
    await log.close()
    const fresh = join(tempDir('prealloc'), 'never-made')
    await expect(openLog(fresh, { preallocate: 'yes' as unknown as boolean })).rejects.toMatchObject({
      code: 'LOG_CONFIG',
      context: { preallocate: 'yes' },
    })
    expect(() => statSync(fresh)).toThrow()
  })

  it('let a follower in another log read the frames of a preallocated active segment as they are written', async () => {
    const dir = tempDir('prealloc')
    const writer = await openLog(dir, { segmentBytes: SEGMENT_BYTES })
    await fill(writer, 2)
    const follower = await openLog(dir, { readOnly: true, followIntervalMs: 5 })
    expect(follower.head.seq).toBe(2)
    await fill(writer, 40) // crosses segments: preallocated, sealed, the next one preallocated
    const seen = await new Promise<number>((resolve) => {
      const check = () => follower.head.seq === 42 && resolve(42)
      follower.onAppend(check)
      check()
    })
    expect(seen).toBe(42)
    expect((await readAll(follower)).map(([s]) => s)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1))
    await follower.close()
    await writer.close()
  })
})
