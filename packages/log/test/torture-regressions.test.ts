// Regression tests for the bugs the torture suite (tests/torture) found in @homedb/log, each reduced from its failing
// seed to a deterministic scenario on the simulated file system (see RELIABILITY.md for the list and the fixes).
// Two tests craft segment files with the log's internal encoders: white-box fixtures for states the public API
// reaches only through races.
import { type FileLayer, SimFs, seededRng, wrapFileLayer } from '@homedb/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Log, LogError, openLog, verifyLog } from '../src/index.js'
import { decodeSegmentHeader, encodeSegmentHeader, FrameType, segmentFileName } from '../src/internal/format.js'
import { encodeFrame } from '../src/internal/frame-codec.js'

/** Each test gets its own log directory, and whatever it opened is closed after it, pass or fail. */
let DIR = '/db/log'
let tests = 0
const opened = new Set<Log>()
beforeEach(() => {
  DIR = `/db/log-${++tests}`
})
afterEach(async () => {
  for (const log of opened) await log.close().catch(() => undefined)
  opened.clear()
})

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

function newSim(seed = 1): SimFs {
  const fs = new SimFs(seededRng(seed), { maxPause: 0 })
  fs.putDir('/db')
  return fs
}

async function open(fs: FileLayer, options: { segmentBytes?: number; readOnly?: boolean } = {}): Promise<Log> {
  const log = await openLog(DIR, {
    fileLayer: fs,
    segmentBytes: options.segmentBytes ?? 1024,
    readOnly: options.readOnly ?? false,
  })
  opened.add(log)
  return log
}

/** Appends `count` commits `commit-N`, syncing every `every`; returns the last seq. */
async function fill(log: Log, count: number, every = 3, size = 40): Promise<number> {
  let seq = log.head.seq
  for (let i = 0; i < count; i++) {
    seq = log.append(bytes(`commit-${log.head.seq + 1}-${'x'.repeat(size)}`))
    if ((i + 1) % every === 0) await log.sync()
  }
  await log.sync()
  return seq
}

/** Reads an iterator to its end; returns the seqs read and the error it ended with, if any. */
async function drain(
  it: AsyncIterator<{ seq: number }>,
  into: number[] = [],
): Promise<{ seqs: number[]; error: unknown }> {
  try {
    for (;;) {
      const next = await it.next()
      if (next.done) return { seqs: into, error: undefined }
      into.push(next.value.seq)
    }
  } catch (error) {
    return { seqs: into, error }
  }
}

function expectContiguous(seqs: number[], from: number): void {
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => from + i))
}

const codeOf = (error: unknown) => (error instanceof LogError ? error.code : String(error))

/**
 * A log whose segment 2 is empty and sealed, at the base of segment 3 (what a roll requested by compaction while
 * another roll was in flight leaves): segments built through the API, then renumbered with the internal encoders.
 */
async function withEmptySegment() {
  const built = newSim()
  const source = await open(built)
  await fill(source, 45, 3, 60)
  await source.close()
  const names = built.list(DIR).filter((n) => n.startsWith('segment-'))
  expect(names.length).toBeGreaterThanOrEqual(3)
  const headerOf = (name: string) => {
    const h = decodeSegmentHeader(built.readFile(`${DIR}/${name}`)!.subarray(0, 64))
    if (typeof h === 'string') throw new Error(h)
    return h
  }
  const fs = newSim()
  const second = headerOf(names[1]!)
  fs.putFile(`${DIR}/${names[0]}`, built.readFile(`${DIR}/${names[0]}`)!)
  const seal = encodeFrame(FrameType.seal, second.baseSeq, second.baseChain, new Uint8Array(0)).frame
  fs.putFile(`${DIR}/${segmentFileName(2)}`, Buffer.concat([encodeSegmentHeader({ ...second, number: 2 }), seal]))
  for (const [i, name] of names.slice(1).entries()) {
    const data = built.readFile(`${DIR}/${name}`)!
    const header = encodeSegmentHeader({ ...headerOf(name), number: i + 3 })
    fs.putFile(`${DIR}/${segmentFileName(i + 3)}`, Buffer.concat([header, data.subarray(64)]))
  }
  return { fs, second }
}

/** `sim`, except that opening a file whose name ends with `name` first runs the hook `current()` returns, if any. */
function hooked(sim: SimFs, name: string, current: () => (() => Promise<void>) | undefined): FileLayer {
  return wrapFileLayer(sim, {
    open: async (path, mode) => {
      const hook = current()
      if (hook && path.endsWith(name)) await hook()
      return sim.open(path, mode)
    },
  })
}

/** Flips a bit of byte `offset`; a negative offset counts back from the end of the data (zeros at the end left out). */
function flipByte(fs: SimFs, path: string, offset: number): void {
  const data = fs.readFile(path)!
  let end = data.byteLength
  while (end > 0 && data[end - 1] === 0) end--
  const at = offset < 0 ? end + offset : offset
  data[at] = data[at]! ^ 0x10
  fs.putFile(path, data)
}

describe('reads racing compaction and rolls', () => {
  it('never skips commits when compaction releases the segment being read (power-loss seeds 1, 7, 18)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 60)
    const it = log.read({ from: 0 })[Symbol.asyncIterator]()
    const first = await it.next()
    expect(first.value?.seq).toBe(1)
    await log.snapshot(bytes('state'), 40)
    expect(log.start.seq).toBeGreaterThan(1)
    const { seqs, error } = await drain(it, [1])
    expectContiguous(seqs, 1)
    if (seqs.length < 60) expect(codeOf(error)).toBe('LOG_NEED_SNAPSHOT')
    await log.close()
  })

  it('reads on to the seal when the segment being read rolls meanwhile (power-loss seed 2)', async () => {
    // The roll happens while the reader opens the segment, after it decided the segment was the active one.
    const sim = newSim()
    let hook: (() => Promise<void>) | undefined
    const fileLayer = hooked(sim, segmentFileName(1), () => hook)
    const first = await openLog(DIR, { fileLayer, segmentBytes: 1024 })
    for (let i = 0; i < 5; i++) first.append(bytes(`small-${i}`))
    await first.close()
    // Reopened: the commits are only in the files (a log keeps what it wrote itself in memory for a while).
    const log = await openLog(DIR, { fileLayer, segmentBytes: 1024 })
    opened.add(log)
    hook = async () => {
      hook = undefined
      for (let i = 0; i < 3; i++) log.append(new Uint8Array(400).fill(i)) // crosses segmentBytes: seal and roll
      await log.sync()
      for (let i = 0; i < 3; i++) log.append(bytes(`after-roll-${i}`))
      await log.sync()
    }
    const { seqs, error } = await drain(log.read({ from: 0 })[Symbol.asyncIterator]())
    expect(error).toBeUndefined()
    expectContiguous(seqs, 1)
    expect(seqs.at(-1)).toBe(11)
  })

  it('continues past an empty segment that compaction released while reading (fault seed 1788)', async () => {
    const { fs, second } = await withEmptySegment()
    const log = await open(fs)
    const it = log.read({ from: 0 })[Symbol.asyncIterator]()
    expect((await it.next()).value?.seq).toBe(1)
    await log.snapshot(bytes('state'), second.baseSeq) // releases segment 1 and the empty segment 2, keeps 3
    expect(log.start.seq).toBe(second.baseSeq)
    const { seqs, error } = await drain(it, [1])
    expect(error).toBeUndefined()
    expectContiguous(seqs, 1)
    expect(seqs.at(-1)).toBe(log.head.seq)
  })

  it('skips an empty segment deleted just before the read opens it, not failing with NEED_SNAPSHOT (fault seed 200908)', async () => {
    const { fs, second } = await withEmptySegment()
    let hook: (() => Promise<void>) | undefined
    const log = await openLog(DIR, { fileLayer: hooked(fs, segmentFileName(2), () => hook), segmentBytes: 1024 })
    opened.add(log)
    hook = async () => {
      hook = undefined
      await log.snapshot(bytes('state'), second.baseSeq) // deletes segments 1 and 2 while the read moves to 2
    }
    const { seqs, error } = await drain(log.read({ from: 0 })[Symbol.asyncIterator]())
    expect(error).toBeUndefined()
    expectContiguous(seqs, 1)
    expect(seqs.at(-1)).toBe(log.head.seq)
  })

  it('fails a read across a missing middle segment with LOG_CORRUPT instead of skipping it (fuzzing)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 60)
    await log.close()
    const names = fs.list(DIR).filter((n) => n.startsWith('segment-'))
    expect(names.length).toBeGreaterThanOrEqual(4)
    fs.removeFile(`${DIR}/${names[1]}`)
    for (const readOnly of [true, false]) {
      const again = await open(fs, { readOnly })
      const { seqs, error } = await drain(again.read({ from: 0 })[Symbol.asyncIterator]())
      expectContiguous(seqs, 1)
      expect(codeOf(error)).toBe('LOG_CORRUPT')
      await again.close()
    }
  })

  it('reads a sealed segment with a damaged length field without allocating what the field claims (fuzzing)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 30)
    await log.close()
    const first = `${DIR}/${fs.list(DIR).filter((n) => n.startsWith('segment-'))[0]}`
    const data = Buffer.from(fs.readFile(first)!)
    data.writeUInt32LE(64 * 1024 * 1024, 64) // the first frame now claims a 64 MiB body in a ~1 KiB file
    fs.putFile(first, data)
    const again = await open(fs, { readOnly: true })
    const { error } = await drain(again.read({ from: 0 })[Symbol.asyncIterator]())
    expect(codeOf(error)).toBe('LOG_CORRUPT')
    expect(fs.counters.maxReadLength).toBeLessThanOrEqual(1024 * 1024)
    await again.close()
  })
})

describe('snapshots read while others are written', () => {
  it('returns the newest snapshot, not none, when compaction deletes the one being looked at (power-loss seed 44)', async () => {
    const sim = newSim()
    let hook: (() => Promise<void>) | undefined
    const layer = hooked(sim, 'snapshot-0000000000000010.snap', () => {
      const run = hook
      hook = undefined
      return run
    })
    const log = await openLog(DIR, { fileLayer: layer, segmentBytes: 1024 })
    opened.add(log)
    await fill(log, 10)
    await log.snapshot(bytes('at 10'), 10)
    await fill(log, 10)
    hook = async () => {
      await log.snapshot(bytes('at 20'), 20) // deletes snapshot 10 before latestSnapshot() opens it
    }
    const latest = await log.latestSnapshot()
    expect(latest?.seq).toBe(20)
    expect(text(await latest!.payload())).toBe('at 20')
    await log.close()
  })

  it('rejects with the I/O error instead of reporting no snapshot or a replaced one (power-loss seed 44, fault seed 5)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 5)
    await log.snapshot(bytes('state'), 5)
    fs.arm({ op: 'open', nth: 1, code: 'EIO', when: (c) => c.path.endsWith('.snap') })
    await expect(log.latestSnapshot()).rejects.toMatchObject({ code: 'LOG_IO', context: { osCode: 'EIO' } })
    const snap = await log.latestSnapshot()
    fs.arm({ op: 'open', nth: 1, code: 'EIO', when: (c) => c.path.endsWith('.snap') })
    await expect(snap!.payload()).rejects.toMatchObject({ code: 'LOG_IO', context: { osCode: 'EIO' } })
    await log.close()
  })

  it('never returns a truncated payload when the snapshot is rewritten at the same seq meanwhile (power-loss seed 51)', async () => {
    for (const [before, after] of [
      [2, 3],
      [3, 1],
    ] as const) {
      const fs = newSim()
      const log = await open(fs)
      await fill(log, 5)
      const data = new Uint8Array(3000).map((_, i) => i & 0xff)
      const chunks = (n: number) =>
        Array.from({ length: n }, (_, i) => data.subarray((i * 3000) / n, ((i + 1) * 3000) / n))
      await log.snapshot(chunks(before), 5)
      const snap = await log.latestSnapshot()
      await log.snapshot(chunks(after), 5) // same state, chunked differently, renamed over the first
      const payload = await snap!.payload().catch((error: unknown) => error)
      if (payload instanceof Uint8Array) expect(Buffer.compare(payload, data)).toBe(0)
      else expect(codeOf(payload)).toBe('LOG_SNAPSHOT')
      expect(fs.counters.maxReadLength).toBeLessThanOrEqual(4096)
      await log.close()
    }
  })
})

describe('snapshots written after a reopen', () => {
  it('records the real chain when re-snapshotting at the latest snapshot seq before loading it (power-loss seed 304759)', async () => {
    const fs = newSim()
    const log = await open(fs)
    for (let i = 0; i < 9; i++) log.append(bytes(`commit-${i + 1}`))
    const first = await log.snapshot(bytes('at 6'), 6)
    await log.close()
    const again = await open(fs)
    const second = await again.snapshot(bytes('at 6, again'), 6)
    expect(second.chain).toBe(first.chain)
    expect((await again.latestSnapshot())?.chain).toBe(first.chain)
  })
})

describe('recovery after crashes, restarts and damage', () => {
  it('keeps a new log directory through a power cut (power-loss seed 5)', async () => {
    const fs = newSim()
    const log = await open(fs)
    log.append(bytes('acknowledged'))
    await log.sync()
    const { fs: after } = fs.crash('drop', seededRng(1))
    await log.close().catch(() => undefined)
    const again = await open(after)
    expect(again.head.seq).toBe(1)
    await again.close()
  })

  it('makes a segment name durable after a restart that found its roll unfinished (fault seed 897)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 3)
    fs.arm({ op: 'syncDir', nth: 1, code: 'EIO' }) // the next roll creates segment 2 but cannot fsync the directory
    for (let i = 0; i < 3; i++) log.append(new Uint8Array(400).fill(i))
    await log.sync()
    for (let i = 0; i < 100 && !log.failure; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(log.failure).toBeDefined()
    const { fs: restarted } = fs.restart(seededRng(2))
    await log.close().catch(() => undefined)
    const again = await open(restarted)
    const acked = again.append(bytes('acknowledged after the restart'))
    await again.sync()
    const { fs: after } = restarted.crash('drop', seededRng(3))
    await again.close().catch(() => undefined)
    const last = await open(after)
    expect(last.head.seq).toBe(acked)
    await last.close()
  })

  it('refuses to restart the log at seq 0 when its only segment has a damaged header (power-loss seed 809)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 10)
    await log.snapshot(bytes('state'), 10) // rolls and releases: one header-only segment is left
    await log.close()
    const segments = fs.list(DIR).filter((n) => n.startsWith('segment-'))
    expect(segments).toHaveLength(1)
    flipByte(fs, `${DIR}/${segments[0]}`, 20)
    await expect(open(fs)).rejects.toMatchObject({ code: 'LOG_CORRUPT' })
    expect(fs.list(DIR)).toContain(segments[0])
    expect((await verifyLog(DIR, { fileLayer: fs })).ok).toBe(false)
  })

  it('refuses a damaged sealed segment even when the next one was never finished (fault seed 988)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 3)
    for (let i = 0; i < 3; i++) log.append(new Uint8Array(400).fill(7)) // crosses segmentBytes: seal, new segment
    await log.sync()
    await log.close()
    const segments = fs.list(DIR).filter((n) => n.startsWith('segment-'))
    expect(segments).toHaveLength(2)
    flipByte(fs, `${DIR}/${segments[1]}`, 20) // the new segment's header is damaged...
    flipByte(fs, `${DIR}/${segments[0]}`, -40) // ...and so is the last acknowledged commit before the seal
    await expect(open(fs)).rejects.toMatchObject({ code: 'LOG_CORRUPT' })
  })

  it('refuses to recover behind its own snapshot when the last acknowledged batch is damaged (fault seed 1308)', async () => {
    const fs = newSim()
    const log = await open(fs, { segmentBytes: 64 * 1024 })
    log.hold('replica', 0) // keeps everything in one segment: no roll, no release
    await fill(log, 10)
    for (let i = 0; i < 5; i++) log.append(bytes(`last-batch-${i}`))
    await log.sync()
    await log.snapshot(bytes('state at 15'), 15)
    await log.close()
    flipByte(fs, `${DIR}/${segmentFileName(1)}`, -1) // the last byte of commit 15
    await expect(open(fs)).rejects.toMatchObject({ code: 'LOG_CORRUPT' })
    const report = await verifyLog(DIR, { fileLayer: fs })
    expect(report.ok).toBe(false)
  })

  it('ignores files whose names only resemble segments and snapshots (fuzzing)', async () => {
    const fs = newSim()
    const log = await open(fs)
    await fill(log, 30)
    await log.snapshot(bytes('state'), 20)
    await log.close()
    const some = fs.readFile(`${DIR}/${fs.list(DIR).find((n) => n.startsWith('segment-'))}`)!
    fs.putFile(`${DIR}/segment-000000001.log`, some)
    fs.putFile(`${DIR}/segment-99999999999999999999.log`, some)
    fs.putFile(`${DIR}/snapshot-00000000000000020.snap`, new Uint8Array(10))
    const report = await verifyLog(DIR, { fileLayer: fs })
    expect(report.ok).toBe(true)
    const again = await open(fs)
    const { seqs, error } = await drain(again.read({ from: again.start.seq })[Symbol.asyncIterator]())
    expect(error).toBeUndefined()
    expect(seqs.at(-1)).toBe(30)
    expect((await again.latestSnapshot())?.seq).toBe(20)
    await again.close()
  })
})
