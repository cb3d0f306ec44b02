// Recovery at open: a log cut at any byte keeps exactly its complete commits; torn or out-of-order unsynced tails
// are cut and reported; damage inside durable data is refused for writing but still readable for forensics.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { dirBytes, tempDir } from '@homedb/testkit'
import { crc32c } from '@node-rs/crc32'
import { describe, expect, it } from 'vitest'
import { nodeFileLayer } from '../src/file-layer.js'
import { LogCorruptionError, openLog, verifyLog } from '../src/index.js'
import { FrameType } from '../src/internal/format.js'
import { FrameCursor } from '../src/internal/frame-reader.js'
import { bytes, readAll } from './support/text-commits.js'

const segments = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.startsWith('segment-'))
    .sort()

/** Every frame of a segment file: offset, end, type and seq. */
async function framesOf(file: string) {
  const handle = await nodeFileLayer.open(file, 'r')
  const size = await handle.size()
  const out: { offset: number; end: number; type: number; seq: number }[] = []
  const frames = new FrameCursor(handle, 64, () => size)
  while (await frames.load()) {
    for (let f = frames.next(); f !== undefined; f = frames.next()) {
      out.push({ offset: frames.frameOffset, end: frames.frameOffset + f.size, type: f.type, seq: f.seq })
    }
  }
  await handle.close()
  return out
}

function snapshotDir(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (const name of readdirSync(dir)) if (name !== 'LOCK') files.set(name, readFileSync(join(dir, name)))
  return files
}

function restore(dir: string, files: Map<string, Buffer>): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  for (const [name, data] of files) writeFileSync(join(dir, name), data)
}

/** Builds a fsync-mode log whose last two segments hold a few small batches each. */
async function buildLog(dir: string) {
  const log = await openLog(dir, { durability: 'fsync', segmentBytes: 1024 })
  let n = 0
  while (segments(dir).length < 3 || n < 40) {
    for (let i = 0; i < 1 + (n % 3); i++) log.append(bytes(`commit-${++n}-${'x'.repeat(n % 17)}`))
    await log.sync()
  }
  for (let i = 0; i < 4; i++) {
    log.append(bytes(`tail-${++n}`))
    await log.sync()
  }
  await log.close()
  return n
}

describe('recovery', () => {
  it('keeps exactly the complete commits when the log is cut at every byte across the last frames and a roll', async () => {
    const dir = tempDir('log')
    await buildLog(dir)
    const original = snapshotDir(dir)
    const names = segments(dir)
    const prev = names[names.length - 2]!
    const last = names[names.length - 1]!
    const prevFrames = await framesOf(join(dir, prev))
    const lastFrames = await framesOf(join(dir, last))
    const prevSize = original.get(prev)!.byteLength
    const lastSize = original.get(last)!.byteLength
    // Cut points: the last 4 frames of the previous segment (and its seal), then the whole last segment.
    const from = prevFrames[Math.max(0, prevFrames.length - 5)]!.offset
    const work = tempDir('log')
    let checked = 0
    for (let cut = from; cut <= prevSize + lastSize; cut++) {
      const files = new Map(original)
      let kept: { type: number; seq: number; end: number }[]
      if (cut < prevSize) {
        files.set(prev, original.get(prev)!.subarray(0, cut))
        files.delete(last)
        kept = prevFrames.filter((f) => f.end <= cut)
      } else {
        files.set(last, original.get(last)!.subarray(0, cut - prevSize))
        kept = [...prevFrames, ...lastFrames.filter((f) => f.end <= cut - prevSize)]
      }
      const commitSeqs = kept.filter((f) => f.type === FrameType.commit).map((f) => f.seq)
      const expectedHead = commitSeqs.length > 0 ? Math.max(...commitSeqs) : prevFrames[0]!.seq - 1
      restore(work, files)
      const log = await openLog(work, { durability: 'os' })
      expect(log.head.seq, `cut at ${cut}`).toBe(expectedHead)
      const all = await readAll(log, expectedHead - 3)
      expect(all.map(([s]) => s)).toEqual(commitSeqs.filter((s) => s > expectedHead - 3))
      expect(log.append(bytes('after recovery'))).toBe(expectedHead + 1)
      await log.close()
      const again = await openLog(work, { durability: 'os' })
      expect(again.head.seq).toBe(expectedHead + 1)
      expect((await readAll(again, expectedHead)).map(([, t]) => t)).toEqual(['after recovery'])
      expect(again.recovery.truncatedBytes).toBe(0)
      await again.close()
      checked++
    }
    expect(checked).toBeGreaterThan(200)
  }, 120_000)

  it('keeps exactly the complete commits when a preallocated segment holds zeros from any byte on (writes lost)', async () => {
    const dir = tempDir('log')
    await buildLog(dir)
    const original = snapshotDir(dir)
    const last = segments(dir).at(-1)!
    const frames = await framesOf(join(dir, last))
    const size = original.get(last)!.byteLength
    const dataEnd = frames.at(-1)!.end
    expect(size, 'the active segment is preallocated').toBeGreaterThan(dataEnd)
    const work = tempDir('log')
    for (let lost = 64; lost <= dataEnd; lost++) {
      // A power cut: what was written from byte `lost` on never reached the disk; the preallocated zeros are there.
      const files = new Map(original)
      const bytesNow = Buffer.from(original.get(last)!)
      bytesNow.fill(0, lost, dataEnd)
      files.set(last, bytesNow)
      const kept = frames.filter((f) => f.end <= lost && f.type === FrameType.commit).map((f) => f.seq)
      const expectedHead =
        kept.length > 0 ? Math.max(...kept) : frames.find((f) => f.type === FrameType.commit)!.seq - 1
      restore(work, files)
      const log = await openLog(work, { durability: 'os', segmentBytes: 1024 })
      expect(log.head.seq, `zeros from byte ${lost}`).toBe(expectedHead)
      expect(log.recovery.droppedCommits).toBe(0)
      expect(log.append(bytes('after recovery'))).toBe(expectedHead + 1)
      await log.close()
      const again = await openLog(work, { durability: 'os', segmentBytes: 1024 })
      expect(again.head.seq).toBe(expectedHead + 1)
      expect((await readAll(again, expectedHead)).map(([, t]) => t)).toEqual(['after recovery'])
      expect(again.recovery.truncatedBytes).toBe(0)
      expect(readFileSync(join(work, last)).byteLength, 'still preallocated').toBe(size)
      await again.close()
    }
  }, 120_000)

  it('cuts garbage after the last frame and reports its bytes; zeros there are preallocated space, not cut', async () => {
    const garbage = Buffer.from('not a frame at all, just some garbage bytes'.repeat(5))
    for (const [junk, cut] of [
      [Buffer.alloc(300), 0],
      [garbage, garbage.byteLength],
    ] as const) {
      const dir = tempDir('log')
      const n = await buildLog(dir)
      const last = join(dir, segments(dir).at(-1)!)
      const size = readFileSync(last).byteLength
      const end = (await verifyLog(dir)).segments.at(-1)!.bytes
      expect(size, 'the active segment is preallocated past its frames').toBeGreaterThan(end)
      const file = readFileSync(last)
      junk.copy(file, end)
      writeFileSync(last, file)
      const log = await openLog(dir, { segmentBytes: 1024 })
      expect(log.head.seq).toBe(n)
      expect(log.recovery).toMatchObject({ truncatedBytes: cut, droppedCommits: 0 })
      expect(readFileSync(last).byteLength, 'the cut segment is preallocated again').toBe(size)
      expect(
        readFileSync(last)
          .subarray(end)
          .every((b) => b === 0),
      ).toBe(true)
      await log.close()
    }
  })

  it('cuts an unsynced batch that reached the disk out of order (a hole followed by valid frames), not refusing it', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { durability: 'fsync', segmentBytes: 1 << 20 })
    for (let i = 0; i < 10; i++) log.append(bytes(`synced ${i}`))
    await log.sync()
    for (let i = 0; i < 4; i++) log.append(bytes(`unsynced ${i}`))
    await log.sync()
    await log.close()
    const file = join(dir, segments(dir)[0]!)
    const frames = await framesOf(file)
    const lastBatch = frames.filter((f) => f.type === FrameType.commit && f.seq > 10)
    const data = readFileSync(file)
    // The first frame of the last batch never reached the disk; the later ones did.
    data.fill(0, lastBatch[0]!.offset, lastBatch[0]!.end)
    writeFileSync(file, data)
    const reopened = await openLog(dir)
    expect(reopened.head.seq).toBe(10)
    expect(reopened.recovery).toMatchObject({ droppedCommits: 3, cutAt: { offset: lastBatch[0]!.offset } })
    await reopened.close()
  })

  it('refuses to open for writing when a bit flipped in durable data, naming segment, offset and seq', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { durability: 'fsync', segmentBytes: 1 << 20 })
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 3; i++) log.append(bytes(`b${batch} c${i}`))
      await log.sync()
    }
    await log.close()
    const name = segments(dir)[0]!
    const file = join(dir, name)
    const frames = (await framesOf(file)).filter((f) => f.type === FrameType.commit)
    const victim = frames[4]! // seq 5, in the second batch: later markers say it was durable
    const data = readFileSync(file)
    data[victim.end - 2]! ^= 0x10
    writeFileSync(file, data)
    const before = readFileSync(file)
    const error = await openLog(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogCorruptionError)
    expect((error as LogCorruptionError).code).toBe('LOG_CORRUPT')
    expect((error as LogCorruptionError).context).toMatchObject({ file: name, offset: victim.offset, seq: 4 })
    expect(readFileSync(file).equals(before)).toBe(true)
    // Forensics still work and change nothing.
    const ro = await openLog(dir, { readOnly: true })
    expect(ro.head.seq).toBe(4)
    expect((await readAll(ro)).length).toBe(4)
    await ro.close()
    const report = await verifyLog(dir)
    expect(report.ok).toBe(false)
    expect(report.damage).toEqual([
      expect.objectContaining({ file: name, offset: victim.offset, seq: 4, kind: 'corruption' }),
    ])
    expect(readFileSync(file).equals(before)).toBe(true)
    // The lock was released: a second attempt fails the same way, not with LOG_LOCKED.
    await expect(openLog(dir)).rejects.toMatchObject({ code: 'LOG_CORRUPT' })
  })

  it('detects a flipped bit in a sealed segment when it is read', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { durability: 'os', segmentBytes: 1024 })
    for (let i = 0; i < 100; i++) {
      log.append(bytes(`entry ${i}`))
      if (i % 5 === 0) await log.sync()
    }
    await log.close()
    const first = join(dir, segments(dir)[0]!)
    const frames = await framesOf(first)
    const data = readFileSync(first)
    data[frames[3]!.offset + 30]! ^= 1
    writeFileSync(first, data)
    const reopened = await openLog(dir)
    await expect(readAll(reopened)).rejects.toMatchObject({
      code: 'LOG_CORRUPT',
      context: { offset: frames[3]!.offset },
    })
    expect((await verifyLog(dir)).damage[0]).toMatchObject({ kind: 'corruption', offset: frames[3]!.offset })
    await reopened.close()
  })

  it('hands out every commit before a frame that breaks the chain, then refuses it (CRC intact, chain wrong)', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { durability: 'os', segmentBytes: 1024 })
    for (let i = 0; i < 100; i++) {
      log.append(bytes(`entry ${i}`))
      if (i % 5 === 0) await log.sync()
    }
    await log.close()
    const first = join(dir, segments(dir)[0]!)
    const frames = (await framesOf(first)).filter((f) => f.type === FrameType.commit)
    const damaged = frames[4]!
    // Another payload of the same length with a CRC that matches it: only the chain can tell.
    const data = readFileSync(first)
    data[damaged.offset + 28]! ^= 1
    data.writeUInt32LE(crc32c(data.subarray(damaged.offset + 8, damaged.end)), damaged.offset + 4)
    writeFileSync(first, data)
    const reopened = await openLog(dir)
    const seen: number[] = []
    const error = await (async () => {
      for await (const c of reopened.read()) seen.push(c.seq)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(frames.slice(0, 4).map((f) => f.seq))
    expect(error).toMatchObject({ code: 'LOG_CORRUPT', context: { offset: damaged.offset, problem: 'chain' } })
    const batches: number[] = []
    const again = await (async () => {
      for await (const batch of reopened.readBatches()) batches.push(...batch.map((c) => c.seq))
    })().catch((e: unknown) => e)
    expect(batches).toEqual(seen)
    expect(again).toMatchObject({ code: 'LOG_CORRUPT' })
    await reopened.close()
  })

  it('treats a flip in the last batch, which no later batch vouches for, as a torn tail and reports what it dropped', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { durability: 'fsync' })
    for (let i = 0; i < 5; i++) log.append(bytes(`first ${i}`))
    await log.sync()
    for (let i = 0; i < 5; i++) log.append(bytes(`last ${i}`))
    await log.sync()
    await log.close()
    const file = join(dir, segments(dir)[0]!)
    const frames = (await framesOf(file)).filter((f) => f.type === FrameType.commit)
    const data = readFileSync(file)
    data[frames[6]!.offset + 29]! ^= 4
    writeFileSync(file, data)
    const reopened = await openLog(dir)
    expect(reopened.head.seq).toBe(6)
    expect(reopened.recovery.droppedCommits).toBe(3)
    await reopened.close()
  })

  it('after cutting a last batch that a damaged snapshot was taken after, snapshots again below that snapshot’s seq', async () => {
    // Torture fault seed 1100108: the snapshot at seq 8 cannot vouch for the last batch (a bit flipped in it too), so
    // the flip in that batch is cut as a torn tail (head 6). The damaged snapshot-8 file must not make every later
    // snapshot at seq 6 or 7 fail as "older than the latest snapshot".
    const dir = tempDir('log')
    const log = await openLog(dir, { durability: 'fsync' })
    for (let i = 0; i < 5; i++) log.append(bytes(`first ${i}`))
    await log.sync()
    for (let i = 0; i < 5; i++) log.append(bytes(`last ${i}`))
    await log.snapshot(bytes('state-8'), 8) // syncs the last batch (seqs 6-10) first
    await log.close()
    const file = join(dir, segments(dir)[0]!)
    const frames = (await framesOf(file)).filter((f) => f.type === FrameType.commit)
    const data = readFileSync(file)
    data[frames[6]!.offset + 29]! ^= 4
    writeFileSync(file, data)
    const snapFile = join(dir, 'snapshot-0000000000000008.snap')
    const snap = readFileSync(snapFile)
    snap[snap.byteLength - 20]! ^= 1
    writeFileSync(snapFile, snap)

    const reopened = await openLog(dir)
    expect(reopened.head.seq).toBe(6)
    expect(await reopened.latestSnapshot()).toBeUndefined()
    const info = await reopened.snapshot(bytes('state-6'))
    expect(info.seq).toBe(6)
    reopened.append(bytes('new 7'))
    await reopened.sync()
    expect((await reopened.latestSnapshot())?.seq).toBe(6)
    expect(await readAll(reopened, 6)).toEqual([[7, 'new 7']])
    await reopened.close()
  })

  it('no longer counts a damaged snapshot at or below the head: an older one can be taken, and it replaces the damaged file', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir)
    for (let i = 1; i <= 50; i++) log.append(bytes(`e${i}`))
    await log.snapshot(bytes('state-40'), 40)
    await log.close()
    const file = join(dir, 'snapshot-0000000000000040.snap')
    const data = readFileSync(file)
    data[100]! ^= 1
    writeFileSync(file, data)

    const reopened = await openLog(dir)
    expect(await reopened.latestSnapshot()).toBeUndefined()
    const info = await reopened.snapshot(bytes('state-30'), 30)
    expect(info.seq).toBe(30)
    expect((await reopened.latestSnapshot())?.seq).toBe(30)
    expect(readdirSync(dir).filter((n) => n.startsWith('snapshot-'))).toEqual(['snapshot-0000000000000030.snap'])
    await reopened.close()
    expect((await verifyLog(dir)).damage).toEqual([])
  })

  it('checks a listed snapshot before it refuses an older one: an intact one still refuses', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir)
    for (let i = 1; i <= 50; i++) log.append(bytes(`e${i}`))
    await log.snapshot(bytes('state-40'), 40)
    await log.close()
    const reopened = await openLog(dir)
    await expect(reopened.snapshot(bytes('state-30'), 30)).rejects.toMatchObject({ code: 'LOG_SNAPSHOT' })
    await reopened.close()
  })

  it('refuses, and verifyLog reports, an unsealed segment followed by a torn creation, changing nothing', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { segmentBytes: 1024 })
    for (let i = 1; i <= 60; i++) log.append(bytes(`e${i}`))
    await log.close()
    // The active segment was never sealed, yet a next segment's creation appears to have been cut short.
    const names = segments(dir)
    const next = `segment-${String(names.length + 1).padStart(8, '0')}.log`
    writeFileSync(join(dir, next), Buffer.from('HOMEDBLG-torn'))
    const before = dirBytes(dir)
    const error = await openLog(dir).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogCorruptionError)
    expect((error as LogCorruptionError).context).toMatchObject({
      file: names.at(-1),
      recoveryCase: 'corrupt-after-seal',
      rule: 'FORMAT.md › Recovery 2',
    })
    expect(dirBytes(dir), 'the refused open deleted and cut nothing').toEqual(before)
    const report = await verifyLog(dir)
    expect(report.ok).toBe(false)
    expect(report.damage).toContainEqual(
      expect.objectContaining({ file: names.at(-1), problem: 'no seal', kind: 'corruption' }),
    )
  })

  it('ignores a torn snapshot and keeps using the previous one and its segments', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { segmentBytes: 1024 })
    for (let i = 1; i <= 50; i++) log.append(bytes(`e${i}`))
    await log.snapshot(bytes('state-50'))
    for (let i = 51; i <= 80; i++) log.append(bytes(`e${i}`))
    await log.sync()
    await log.close()
    // A second snapshot whose write was cut short (as if the crash hit before rename, then rename happened anyway).
    const good = readdirSync(dir).find((n) => n.startsWith('snapshot-'))!
    const torn = readFileSync(join(dir, good))
    writeFileSync(join(dir, 'snapshot-0000000000000080.snap'), torn.subarray(0, torn.byteLength - 3))
    copyFileSync(join(dir, good), join(dir, 'snapshot-0000000000000070.snap.tmp'))
    const reopened = await openLog(dir)
    const snap = await reopened.latestSnapshot()
    expect(snap?.seq).toBe(50)
    expect((await readAll(reopened, 50)).length).toBe(30)
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false)
    await reopened.close()
  })

  it('starts a fresh segment when the crash hit between sealing one and creating the next', async () => {
    const dir = tempDir('log')
    const log = await openLog(dir, { segmentBytes: 1024 })
    for (let i = 0; i < 60; i++) {
      log.append(bytes(`x${i}`))
      await log.sync()
    }
    const head = log.head
    await log.close()
    const names = segments(dir)
    const last = join(dir, names.at(-1)!)
    truncateSync(last, 20) // header never made it
    const reopened = await openLog(dir)
    expect(reopened.head.seq).toBeLessThanOrEqual(head.seq)
    const seq = reopened.append(bytes('continues'))
    await reopened.close()
    const again = await openLog(dir)
    expect(again.head.seq).toBe(seq)
    expect((await verifyLog(dir)).ok).toBe(true)
    await again.close()
  })
})
