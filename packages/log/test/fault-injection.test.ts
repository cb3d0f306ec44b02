// I/O errors injected through the file layer: every failing operation (batch write and fdatasync, segment roll,
// snapshot and compaction, recovery at open) must put the log in the fail-stop state — or fail the open — and
// leave files from which a plain reopen recovers every commit acknowledged before the fault, both where the file
// layer gives O_DSYNC writes (a batch is one durable write) and where it does not (a write, then an fdatasync).
// Also counts calls to prove group commit: 256 awaiting appenders of one turn cost one write (and one fdatasync
// without O_DSYNC).
import { closeSync, existsSync, openSync, readdirSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { type FaultSpec, FaultyFileLayer, isSegment, isSnapshot, tempDir, wrapFileLayer } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import {
  type Durability,
  type Log,
  LogFailedError,
  LogIOError,
  nodeFileLayer,
  openLog,
  verifyLog,
} from '../src/index.js'
import { payloadFor, payloadProblem, stateAt } from './support/seq-payload.js'

/** Small segments, so that a few commits roll (payloads are 16–415 bytes). */
const SEGMENT_BYTES = 1024
const CODES = ['EIO', 'ENOSPC'] as const

const freshDir = (): string => tempDir('faults')

/** The real file system on a platform without O_DSYNC: `{ dsync: true }` is ignored, as a layer may. */
const withoutDsync = wrapFileLayer(nodeFileLayer, { open: (path, mode) => nodeFileLayer.open(path, mode) })

/**
 * The two ways 'fsync' mode makes a batch durable, each tested with the same faults (where they apply), and 'os'
 * mode. Page-cache writes go inline (`writeSync` on the event loop: a fault throws there, not in a promise): every
 * batch of 'os' mode and of the layer without O_DSYNC (its fdatasync stays on the threadpool); a durable O_DSYNC
 * write goes inline when the loop was idle, so that layer meets faults both ways.
 */
const LAYERS = [
  { name: 'with O_DSYNC', base: nodeFileLayer, dsync: true, durability: 'fsync' },
  { name: 'without O_DSYNC', base: withoutDsync, dsync: false, durability: 'fsync' },
  { name: "in 'os' mode, batches written inline", base: nodeFileLayer, dsync: false, durability: 'os' },
] as const

const open = (dir: string, fileLayer?: FaultyFileLayer, durability: Durability = 'fsync') =>
  openLog(dir, { durability, segmentBytes: SEGMENT_BYTES, ...(fileLayer ? { fileLayer } : {}) })

/** Appends commits in batches of 1–3, awaiting sync() after each; returns the seqs whose sync() resolved. */
async function commit(log: Log, count: number): Promise<number[]> {
  const acked: number[] = []
  for (let i = 0; acked.length < count; i++) {
    const seqs: number[] = []
    for (let k = 0; k <= i % 3; k++) seqs.push(log.append(payloadFor(log.head.seq + 1)))
    await log.sync()
    acked.push(...seqs)
  }
  return acked
}

/**
 * Keeps committing until an append or a sync fails; returns what was acknowledged before, the error, and how
 * many appends were accepted but never became durable.
 */
async function commitUntilFailure(log: Log): Promise<{ acked: number[]; error: unknown; lost: number }> {
  const acked: number[] = []
  for (let i = 0; i < 1000; i++) {
    const seqs: number[] = []
    try {
      for (let k = 0; k <= i % 3; k++) seqs.push(log.append(payloadFor(log.head.seq + 1)))
      await log.sync()
    } catch (error) {
      return { acked, error, lost: seqs.length }
    }
    acked.push(...seqs)
  }
  throw new Error('1000 batches went through: the armed fault never fired')
}

function causeCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined
  if (e?.cause && typeof e.cause.code === 'string') return e.cause.code
  return typeof e?.code === 'string' ? e.code : undefined
}

/** The fail-stop state: `failure` set, and append, sync and snapshot all refuse with LOG_FAILED. */
async function expectFailStopped(log: Log, code: string): Promise<void> {
  expect(log.failure).toBeInstanceOf(LogFailedError)
  expect((log.failure as LogFailedError).code).toBe('LOG_FAILED')
  expect(causeCode(log.failure), 'failure carries the injected I/O error').toBe(code)
  let thrown: unknown
  try {
    log.append(payloadFor(log.head.seq + 1))
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(LogFailedError)
  expect((thrown as LogFailedError).code).toBe('LOG_FAILED')
  await expect(log.sync()).rejects.toBeInstanceOf(LogFailedError)
  await expect(log.snapshot(stateAt(log.head.seq))).rejects.toMatchObject({ code: 'LOG_FAILED' })
}

/**
 * Reopens `dir` with the real file layer and checks: every acknowledged commit is there (in segments, or covered
 * by the latest snapshot where compaction released its segment), seqs run contiguously to the head, payloads
 * match, the files verify clean, and the log takes new appends that survive another reopen.
 */
async function expectRecovered(dir: string, acked: readonly number[]): Promise<void> {
  const maxAcked = Math.max(0, ...acked)
  const log = await open(dir)
  let next: number
  try {
    expect(log.failure).toBeUndefined()
    expect(log.head.seq, 'every acknowledged commit survived').toBeGreaterThanOrEqual(maxAcked)
    const snapshot = await log.latestSnapshot()
    if (log.start.seq > 0) {
      // Commits at or below start live only in the snapshot: it must reach at least that far.
      expect(snapshot?.seq, 'a snapshot covers the released segments').toBeGreaterThanOrEqual(log.start.seq)
    }
    if (snapshot) expect(Buffer.from(await snapshot.payload()).equals(stateAt(snapshot.seq))).toBe(true)
    let expected = log.start.seq + 1
    for await (const c of log.read({ from: log.start.seq })) {
      expect(c.seq, 'seqs are contiguous').toBe(expected)
      expect(payloadProblem(c.seq, c.payload)).toBeUndefined()
      expected++
    }
    expect(expected - 1, 'read() reaches the head').toBe(log.head.seq)
    next = log.append(payloadFor(log.head.seq + 1))
    await log.sync()
  } finally {
    await log.close()
  }
  const report = await verifyLog(dir)
  expect(report.damage).toEqual([])
  expect(report.head.seq).toBe(next)
  const again = await open(dir)
  expect(again.head.seq, 'appends after recovery survive a reopen').toBe(next)
  await again.close()
}

interface RuntimeCase {
  /** Behaviour, for the test title. */
  what: string
  /** The fault to arm; `layer` lets a case watch earlier calls (through `onCall`) to aim at a later one. */
  fault: (code: string, layer: FaultyFileLayer) => FaultSpec
  /** Extra setup before arming (e.g. a first snapshot). */
  before?: (log: Log) => Promise<void>
  /** What runs into the fault: appending, or taking a snapshot at the head. */
  trigger: 'append' | 'snapshot'
  /** Only where the log fdatasyncs what it wrote (without O_DSYNC): with it there is no such call to fail. */
  fdatasyncs?: true
}

const runtimeCases: RuntimeCase[] = [
  {
    what: 'a batch write fails',
    fault: (code) => ({ op: 'write', code, when: (c) => isSegment(c.path) && c.position !== 0 }),
    trigger: 'append',
  },
  {
    what: 'a batch write is cut short by the error',
    fault: (code) => ({ op: 'write', code, torn: true, when: (c) => isSegment(c.path) && c.position !== 0 }),
    trigger: 'append',
  },
  { what: 'a batch fdatasync fails', fault: (code) => ({ op: 'datasync', code }), trigger: 'append', fdatasyncs: true },
  {
    what: 'opening the next segment at a roll fails',
    fault: (code) => ({ op: 'open', code, when: (c) => c.mode === 'wx' && isSegment(c.path) }),
    trigger: 'append',
  },
  {
    what: "writing the next segment's header at a roll fails",
    fault: (code) => ({ op: 'write', code, when: (c) => isSegment(c.path) && c.position === 0 }),
    trigger: 'append',
  },
  {
    what: "the fdatasync of the next segment's header at a roll fails",
    fault: (code, layer) => {
      const created = new Set<string>()
      layer.onCall = (c) => {
        if (c.op === 'open' && c.mode === 'wx' && isSegment(c.path)) created.add(c.path)
      }
      return { op: 'datasync', code, when: (c) => created.has(c.path) }
    },
    trigger: 'append',
    fdatasyncs: true,
  },
  {
    // Only a roll compaction asks for leaves zeros to cut: a roll at segmentBytes follows a batch that filled them.
    what: 'cutting the sealed segment to its data at a roll for compaction fails',
    fault: (code) => ({ op: 'truncate', code, when: (c) => (c.length ?? 0) < SEGMENT_BYTES }),
    trigger: 'snapshot',
  },
  {
    what: 'preallocating the next segment at a roll fails',
    fault: (code) => ({ op: 'truncate', code, when: (c) => c.length === SEGMENT_BYTES }),
    trigger: 'append',
  },
  { what: 'the directory fsync at a roll fails', fault: (code) => ({ op: 'syncDir', code }), trigger: 'append' },
  {
    what: "writing the snapshot's temp file fails",
    fault: (code) => ({ op: 'write', code, when: (c) => isSnapshot(c.path) }),
    trigger: 'snapshot',
  },
  {
    what: "the snapshot's fsync fails",
    fault: (code) => ({ op: 'sync', code, when: (c) => isSnapshot(c.path) }),
    trigger: 'snapshot',
  },
  { what: 'renaming the snapshot into place fails', fault: (code) => ({ op: 'rename', code }), trigger: 'snapshot' },
  {
    what: 'the directory fsync after the snapshot rename fails',
    fault: (code) => ({ op: 'syncDir', code }),
    trigger: 'snapshot',
  },
  {
    what: 'compaction fails to delete the first released segment',
    fault: (code) => ({ op: 'unlink', code, when: (c) => isSegment(c.path) }),
    trigger: 'snapshot',
  },
  {
    what: 'compaction fails to delete the second released segment (the first is gone)',
    fault: (code) => ({ op: 'unlink', code, nth: 2, when: (c) => isSegment(c.path) }),
    trigger: 'snapshot',
  },
  {
    what: 'the directory fsync after compaction deleted segments fails',
    fault: (code, layer) => {
      let unlinked = false
      layer.onCall = (c) => {
        if (c.op === 'unlink' && isSegment(c.path)) unlinked = true
      }
      return { op: 'syncDir', code, when: () => unlinked }
    },
    trigger: 'snapshot',
  },
  {
    what: 'compaction fails to delete the older snapshot',
    before: async (log) => {
      await log.snapshot(stateAt(log.head.seq))
      await commit(log, 12)
    },
    fault: (code) => ({ op: 'unlink', code, when: (c) => isSnapshot(c.path) && !c.path.endsWith('.tmp') }),
    trigger: 'snapshot',
  },
]

/** File operations of openLog, each failing once; `cutsTail`: the failing open already cut the torn tail. */
const openCases = [
  { what: 'writing the lock file', op: 'write' as const, cutsTail: false },
  { what: 'the fsync of the lock file', op: 'sync' as const, cutsTail: false },
  { what: 'listing the directory', op: 'readdir' as const, cutsTail: false },
  { what: 'reading a segment', op: 'read' as const, cutsTail: false },
  { what: 'cutting the torn tail (truncate)', op: 'truncate' as const, cutsTail: false },
  // The cut itself went through before the fdatasync failed; the reopen finds a clean tail.
  { what: 'the fdatasync after recovery', op: 'datasync' as const, cutsTail: true },
]

describe.each(CODES.flatMap((code) => LAYERS.map((layer) => ({ code, ...layer }))))(
  'an injected $code, $name',
  ({ code, base, dsync, durability }) => {
    for (const { what, fault, before, trigger } of runtimeCases.filter((c) => !dsync || !c.fdatasyncs)) {
      it(`stops the log when ${what} (append throws LOG_FAILED, sync rejects); a reopen keeps every acknowledged commit`, async () => {
        const dir = freshDir()
        const layer = new FaultyFileLayer(base)
        const log = await open(dir, layer, durability)
        let acked: number[] = []
        try {
          // Enough commits for several rolls, so a snapshot at the head releases segments.
          acked = await commit(log, 24)
          await before?.(log)
          acked.push(...(await commit(log, 3)))
          const armed = layer.arm(fault(code, layer))
          let lost = 0
          if (trigger === 'append') {
            const result = await commitUntilFailure(log)
            acked.push(...result.acked)
            lost = result.lost
            expect(result.error).toBeInstanceOf(LogFailedError)
          } else {
            await expect(log.snapshot(stateAt(log.head.seq))).rejects.toMatchObject({ code: 'LOG_FAILED' })
          }
          expect(armed.fired, 'the fault fired exactly once').toHaveLength(1)
          await expectFailStopped(log, code)
          // close() resolves only if everything appended is durable; it releases lock and files either way.
          if (lost > 0) await expect(log.close()).rejects.toBe(log.failure)
          else await log.close()
        } finally {
          await log.close().catch(() => undefined)
        }
        expect(log.closed).toBe(true)
        expect([...layer.openHandles.values()], 'close() leaves no file open').toEqual([])
        await expectRecovered(dir, acked)
      })
    }
  },
)

describe.each(CODES)('an injected %s', (code) => {
  describe('at open', () => {
    for (const { what, op, cutsTail } of openCases) {
      it(`fails the open when ${what} fails, holds no lock, and a plain reopen keeps every acknowledged commit`, async () => {
        const dir = freshDir()
        const log = await open(dir)
        const acked = await commit(log, 20)
        await log.close()
        // A torn tail right after the frames: a frame header whose length runs past the end of the batch, and a few
        // bytes of it (zeros follow: the preallocated rest of the segment).
        const last = readdirSync(dir).filter(isSegment).sort().at(-1)!
        const end = (await verifyLog(dir)).segments.at(-1)!.bytes
        const fd = openSync(join(dir, last), 'r+')
        const torn = Buffer.alloc(40, 0xab)
        torn.writeUInt32LE(500, 0)
        writeSync(fd, torn, 0, torn.byteLength, end)
        closeSync(fd)

        const layer = new FaultyFileLayer(nodeFileLayer)
        const armed = layer.arm({ op, code })
        let error: unknown
        try {
          await (await open(dir, layer)).close()
        } catch (e) {
          error = e
        }
        expect(armed.fired).toHaveLength(1)
        expect(error, 'openLog rejects with a typed I/O error').toBeInstanceOf(LogIOError)
        expect((error as LogIOError).context).toMatchObject({ operation: 'open', osCode: code, dir })
        expect(causeCode(error), 'openLog rejects with the injected error').toBe(code)
        expect(existsSync(join(dir, 'LOCK')), 'the failed open released its lock').toBe(false)
        expect([...layer.openHandles.values()], 'the failed open leaves no file open').toEqual([])

        const reopened = await open(dir)
        const { truncatedBytes } = reopened.recovery
        await reopened.close()
        expect(truncatedBytes).toBe(cutsTail ? 0 : torn.byteLength)
        await expectRecovered(dir, acked)
      })
    }
  })
})

describe.each(CODES)('an injected %s while reading', (code) => {
  it('rejects the read with LOG_IO naming the system code, and leaves the log working', async () => {
    const dir = freshDir()
    const writer = await open(dir)
    const acked = await commit(writer, 30) // several sealed segments
    await writer.close()
    const layer = new FaultyFileLayer(nodeFileLayer)
    const log = await open(dir, layer)
    const armed = layer.arm({ op: 'read', code })
    const seen: number[] = []
    const error = await (async () => {
      for await (const c of log.read({ from: 0 })) seen.push(c.seq)
    })().catch((e: unknown) => e)
    expect(armed.fired).toHaveLength(1)
    expect(error).toBeInstanceOf(LogIOError)
    expect(error).toMatchObject({ code: 'LOG_IO', context: { operation: 'read', osCode: code, dir, from: 0 } })
    expect((error as LogIOError).cause).toMatchObject({ code })
    expect(seen, 'what came before the error is a prefix of the log').toEqual(acked.slice(0, seen.length))
    // Not fail-stop: reads and writes go on.
    expect(log.failure).toBeUndefined()
    const again: number[] = []
    for await (const c of log.read({ from: 0 })) again.push(c.seq)
    expect(again).toEqual(acked)
    log.append(payloadFor(log.head.seq + 1))
    await log.sync()
    await log.close()
  })

  it('rejects verifyLog and a read-only open with LOG_IO when the directory cannot be listed', async () => {
    const dir = freshDir()
    const writer = await open(dir)
    await commit(writer, 5)
    await writer.close()
    for (const attempt of [
      (fileLayer: FaultyFileLayer) => verifyLog(dir, { fileLayer }),
      (fileLayer: FaultyFileLayer) => openLog(dir, { readOnly: true, fileLayer }),
    ]) {
      const layer = new FaultyFileLayer(nodeFileLayer)
      layer.arm({ op: 'readdir', code })
      const error = await attempt(layer).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LogIOError)
      expect(error).toMatchObject({ code: 'LOG_IO', context: { osCode: code, dir } })
    }
  })
})

describe('close() after an I/O error', () => {
  it('rejects with LOG_FAILED when a failed write lost appends nobody had awaited, and still releases lock and files', async () => {
    const dir = freshDir()
    const layer = new FaultyFileLayer(nodeFileLayer)
    const log = await open(dir, layer)
    const acked = await commit(log, 5)
    layer.arm({ op: 'write', code: 'EIO' })
    log.append(payloadFor(log.head.seq + 1)) // never awaited: only close() can report its loss
    log.append(payloadFor(log.head.seq + 1))
    await expect(log.close()).rejects.toMatchObject({ code: 'LOG_FAILED', cause: { code: 'EIO' } })
    expect(log.closed).toBe(true)
    expect([...layer.openHandles.values()], 'close() leaves no file open').toEqual([])
    expect(existsSync(join(dir, 'LOCK')), 'close() released the lock').toBe(false)
    await expectRecovered(dir, acked)
  })

  it('resolves when everything appended was durable before the failure', async () => {
    const dir = freshDir()
    const layer = new FaultyFileLayer(nodeFileLayer)
    const log = await open(dir, layer)
    const acked = await commit(log, 5)
    layer.arm({ op: 'rename', code: 'EIO' })
    await expect(log.snapshot(stateAt(log.head.seq))).rejects.toMatchObject({ code: 'LOG_FAILED' })
    await log.close()
    expect(log.closed).toBe(true)
    await expectRecovered(dir, acked)
  })

  it('waits for a segment roll still in flight when the log failed elsewhere, so the new segment is not left open', async () => {
    const dir = freshDir()
    const layer = new FaultyFileLayer(nodeFileLayer, { record: true })
    const log = await open(dir, layer)
    const acked = await commit(log, 3)
    const created = () => layer.calls.filter((c) => c.op === 'open' && c.mode === 'wx' && isSegment(c.path)).length
    const before = created()
    // More than a segment's worth of bytes, so the flush the snapshot waits for rolls the segment; the snapshot then
    // fails on its first file operation (the log fails) while the roll is still creating the next segment.
    for (let i = 0; i < 12; i++) acked.push(log.append(payloadFor(log.head.seq + 1)))
    layer.arm({ op: 'open', code: 'EIO', when: (call) => isSnapshot(call.path) })
    await expect(log.snapshot(stateAt(log.head.seq))).rejects.toMatchObject({ code: 'LOG_FAILED' })
    expect(created(), 'the flush before the snapshot rolled a segment').toBeGreaterThan(before)
    await log.close()
    expect([...layer.openHandles.values()], 'close() leaves no file open').toEqual([])
    await expectRecovered(dir, acked)
  })
})

describe('group commit, counted through the file layer', () => {
  async function commitConcurrently(durability: Durability, writers: number, base = nodeFileLayer) {
    const dir = freshDir()
    const layer = new FaultyFileLayer(base, { record: true })
    const log = await openLog(dir, { durability, fileLayer: layer })
    const segmentOpens = layer.calls.filter((c) => c.op === 'open' && isSegment(c.path) && c.mode !== 'r')
    // A few earlier batches, so the next one also carries a batch marker (still in the same write).
    await commit(log, 3)
    layer.resetCounts()
    const first = log.head.seq + 1
    const all = Array.from({ length: writers }, async () => {
      const seq = log.append(payloadFor(log.head.seq + 1))
      await log.sync()
      return seq
    })
    const seqs = await Promise.all(all)
    const counts = { ...layer.counts }
    await log.close()
    return { dir, seqs, counts, first, segmentOpens }
  }

  it("makes 256 awaiting appenders of one turn share one write, durable through O_DSYNC, in 'fsync' mode", async () => {
    const { dir, seqs, counts, first, segmentOpens } = await commitConcurrently('fsync', 256)
    expect(segmentOpens.map((c) => c.dsync)).toEqual([true])
    expect(seqs).toEqual(Array.from({ length: 256 }, (_, i) => first + i))
    expect(counts.write).toBe(1)
    expect(counts.datasync).toBe(0)
    expect(counts.sync).toBe(0)
    const log = await open(dir)
    expect(log.head.seq).toBe(first + 255)
    await log.close()
  })

  it("makes 256 awaiting appenders of one turn share one write and exactly one fdatasync in 'fsync' mode without O_DSYNC", async () => {
    const { dir, seqs, counts, first, segmentOpens } = await commitConcurrently('fsync', 256, withoutDsync)
    // The log asked for O_DSYNC; the layer did not give it, so the log fdatasyncs each batch itself.
    expect(segmentOpens.map((c) => c.dsync)).toEqual([true])
    expect(seqs).toEqual(Array.from({ length: 256 }, (_, i) => first + i))
    expect(counts.write).toBe(1)
    expect(counts.datasync).toBe(1)
    expect(counts.sync).toBe(0)
    const log = await open(dir)
    expect(log.head.seq).toBe(first + 255)
    await log.close()
  })

  it("writes 256 appenders of one turn with one write and no fdatasync in 'os' mode, without O_DSYNC", async () => {
    const { seqs, counts, first, segmentOpens } = await commitConcurrently('os', 256)
    expect(segmentOpens.map((c) => c.dsync)).toEqual([undefined])
    expect(seqs).toEqual(Array.from({ length: 256 }, (_, i) => first + i))
    expect(counts.datasync).toBe(0)
    expect(counts.sync).toBe(0)
    expect(counts.write).toBe(1)
  })
})
