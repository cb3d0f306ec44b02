// Fuzz properties (fast-check) of whole log directories (segments, snapshots, lock file and names mutated, then
// opened, read and verified) and of frames received through `appendEncoded`. Through the public API; only the
// reader's window size comes from the internals (reads may never be larger).
import { SimFs, seededRng } from '@homedb/testkit'
import fc from 'fast-check'
import { GENESIS, type Log, LogInputError, openLog, verifyLog } from '../../src/index.js'
import { READ_WINDOW } from '../../src/internal/frame-reader.js'
import { type ByteMutation, byteMutation, expectLogError, mutate, violation } from './byte-mutations.js'
import { lockBytes } from './decoder-properties.js'

const LOG_ID = '00112233445566778899aabbccddeeff'
const DIR = '/db/log'

/** A small valid log (several segments, a snapshot) on the simulated file system, and what it holds. */
export interface BaseLog {
  files: Map<string, Uint8Array>
  payloads: Map<number, Uint8Array>
  snapshots: Map<number, Uint8Array>
}

let base: Promise<BaseLog> | undefined

/** Builds (once) the valid log the directory fuzzing mutates. */
export function baseLog(): Promise<BaseLog> {
  base ??= (async () => {
    const fs = new SimFs(seededRng(11), { maxPause: 0 })
    fs.putDir('/db')
    const log = await openLog(DIR, { fileLayer: fs, segmentBytes: 1024, create: { logId: LOG_ID } })
    const payloads = new Map<number, Uint8Array>()
    const snapshots = new Map<number, Uint8Array>()
    const rng = seededRng(12)
    for (let i = 1; i <= 60; i++) {
      const payload = rng.bytes(i === 30 ? 2500 : rng.int(0, 120))
      payloads.set(log.append(payload), payload)
      if (i % 4 === 0) await log.sync()
      if (i === 25) {
        const data = rng.bytes(700)
        snapshots.set(25, data)
        await log.snapshot([data.subarray(0, 300), data.subarray(300)], 25)
      }
    }
    await log.close()
    const files = new Map<string, Uint8Array>()
    for (const name of fs.list(DIR)) files.set(`${DIR}/${name}`, fs.readFile(`${DIR}/${name}`)!)
    return { files, payloads, snapshots }
  })()
  return base
}

/** An edit of a whole log directory. */
export type DirMutation =
  | { kind: 'bytes'; file: number; edits: ByteMutation[] }
  | { kind: 'delete'; file: number }
  | { kind: 'rename'; file: number; to: string }
  | { kind: 'add'; name: string; bytes: Uint8Array; copyOf: number | undefined }
  | { kind: 'lock'; bytes: Uint8Array }

/** File names a log directory could hold, including near-misses of the real patterns. */
const fileName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'segment-00000000.log',
    'segment-00000001.log',
    'segment-000000001.log',
    'segment-0000000001.log',
    'segment-99999999.log',
    'segment-4294967296.log',
    'segment-99999999999999999999.log',
    'segment-00000003.log.tmp',
    'snapshot-0000000000000000.snap',
    'snapshot-0000000000000025.snap',
    'snapshot-00000000000000025.snap',
    'snapshot-0000000000000099.snap',
    'snapshot-99999999999999999999.snap',
    'snapshot-0000000000000030.snap.tmp',
    'LOCK',
    'x.tmp',
    'notes.txt',
  ),
  fc
    .tuple(fc.constantFrom('segment-', 'snapshot-'), fc.nat({ max: 10_000 }), fc.integer({ min: 1, max: 24 }))
    .map(([prefix, n, width]) =>
      prefix === 'segment-'
        ? `segment-${String(n).padStart(width, '0')}.log`
        : `snapshot-${String(n).padStart(width, '0')}.snap`,
    ),
)

/** Any {@link DirMutation}. */
export const dirMutation: fc.Arbitrary<DirMutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      file: fc.nat(),
      edits: fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), file: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), file: fc.nat(), to: fileName }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      name: fileName,
      bytes: fc.uint8Array({ maxLength: 300 }),
      copyOf: fc.option(fc.nat(), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lock' as const), bytes: lockBytes }) },
)

/** Applies directory edits to a copy of `files`. */
export function mutateDir(
  files: ReadonlyMap<string, Uint8Array>,
  mutations: readonly DirMutation[],
): Map<string, Uint8Array> {
  const out = new Map(files)
  for (const m of mutations) {
    const names = [...out.keys()].sort()
    const pick = (i: number) => names[i % Math.max(1, names.length)]
    if (m.kind === 'bytes') {
      const name = pick(m.file)
      if (!name) continue
      let bytes = out.get(name)!
      const fields = /segment-/.test(name) ? [64, 68] : /snapshot-/.test(name) ? [64] : []
      for (const e of m.edits) bytes = mutate(bytes, e, fields)
      out.set(name, bytes)
    } else if (m.kind === 'delete') {
      const name = pick(m.file)
      if (name) out.delete(name)
    } else if (m.kind === 'rename') {
      const name = pick(m.file)
      if (!name) continue
      const bytes = out.get(name)!
      out.delete(name)
      out.set(`${DIR}/${m.to}`, bytes)
    } else if (m.kind === 'add') {
      const source = m.copyOf === undefined ? undefined : pick(m.copyOf)
      out.set(`${DIR}/${m.name}`, source ? out.get(source)! : m.bytes)
    } else {
      out.set(`${DIR}/LOCK`, m.bytes)
    }
  }
  return out
}

/** How long one fuzzed directory may take to open, read and verify (a hang or a scan gone quadratic breaks it). */
export const DIR_TIME_LIMIT_MS = 5_000

async function probeLog(fs: SimFs, readOnly: boolean, expected: BaseLog): Promise<void> {
  let log: Log
  try {
    log = await openLog(DIR, { fileLayer: fs, segmentBytes: 1024, readOnly, followIntervalMs: 60_000 })
  } catch (error) {
    expectLogError(error, `openLog(${readOnly ? 'readOnly' : 'writable'})`)
    return
  }
  try {
    try {
      for await (const c of log.read({ from: log.start.seq })) {
        const want = expected.payloads.get(c.seq)
        if (!want || Buffer.compare(want, c.payload) !== 0) violation(`read returned a wrong payload for seq ${c.seq}`)
      }
    } catch (error) {
      expectLogError(error, 'read')
    }
    try {
      const snap = await log.latestSnapshot()
      if (snap) {
        const want = expected.snapshots.get(snap.seq)
        const data = await snap.payload()
        if (!want || Buffer.compare(want, data) !== 0)
          violation(`latestSnapshot() returned wrong data at seq ${snap.seq}`)
      }
    } catch (error) {
      expectLogError(error, 'latestSnapshot')
    }
    if (!readOnly) {
      // Appending after recovery works (or fails typed), and what was appended reads back.
      try {
        const seq = log.append(new Uint8Array([1, 2, 3]))
        await log.sync()
        expected.payloads.set(seq, new Uint8Array([1, 2, 3]))
      } catch (error) {
        expectLogError(error, 'append after recovery')
      }
    }
  } finally {
    await log.close().catch((error: unknown) => expectLogError(error, 'close'))
  }
}

/** Properties of whole log directories with fuzzed segments, snapshots, lock file and names. */
export function directoryProperties() {
  return {
    fuzzedDirectories: fc.asyncProperty(fc.array(dirMutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const original = await baseLog()
      const expected: BaseLog = { ...original, payloads: new Map(original.payloads) }
      const files = mutateDir(original.files, mutations)
      const fs = SimFs.withFiles(seededRng(3), files, { maxPause: 0 })
      fs.putDir(DIR)
      // Reads are bounded by the file, or by the reader's 1 MiB window: never by a length field read from the file.
      const largest = Math.max(READ_WINDOW, ...[...files.values()].map((b) => b.byteLength))
      const started = performance.now()
      try {
        const report = await verifyLog(DIR, { fileLayer: fs })
        if (!Array.isArray(report.damage)) violation('verifyLog returned no damage list')
      } catch (error) {
        expectLogError(error, 'verifyLog')
      }
      await probeLog(fs, true, expected)
      await probeLog(fs, false, expected)
      // A second writable open sees what the first one recovered (and left) and must agree with it.
      await probeLog(fs, false, expected)
      const elapsed = performance.now() - started
      if (elapsed > DIR_TIME_LIMIT_MS) violation(`a fuzzed directory took ${Math.round(elapsed)} ms`)
      if (fs.counters.maxReadLength > largest) {
        violation(`reading files of at most ${largest} bytes asked for a ${fs.counters.maxReadLength}-byte buffer`)
      }
    }),
  }
}

/** Properties of `appendEncoded` with fuzzed frames: all or nothing, typed errors only. */
export function appendEncodedProperties() {
  const frameSource = async (count: number, start = GENESIS) => {
    const source = await openLog(undefined, { durability: 'memory', create: { logId: LOG_ID, start } })
    for (let i = 0; i < count; i++) source.append(new Uint8Array(i * 7).fill(i))
    const frames: Uint8Array[] = []
    for await (const c of source.readEncoded({ from: start.seq })) frames.push(c.frame)
    await source.close()
    return frames
  }
  return {
    mutatedFrames: fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.nat(),
      fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
      async (count, which, ms) => {
        const frames = await frameSource(count)
        const index = which % count
        let damaged = frames[index]!
        for (const m of ms) damaged = mutate(damaged, m, [0, 4])
        const input = frames.map((f, i) => (i === index ? damaged : f))
        const log = await openLog(undefined, { durability: 'memory', create: { logId: LOG_ID } })
        try {
          const got = log.appendEncoded(input)
          if (Buffer.compare(damaged, frames[index]!) !== 0) violation('appendEncoded accepted a damaged frame')
          if (got !== count) violation(`appendEncoded returned ${got}, expected ${count}`)
        } catch (error) {
          if (!(error instanceof LogInputError)) expectLogError(error, 'appendEncoded')
          if (log.head.seq !== 0) violation(`a rejected appendEncoded moved the head to ${log.head.seq}`)
        } finally {
          await log.close()
        }
      },
    ),
    arbitraryValues: fc.asyncProperty(
      fc.array(fc.oneof(fc.anything(), fc.uint8Array({ maxLength: 64 })), { maxLength: 4 }),
      async (values) => {
        const log = await openLog(undefined, { durability: 'memory' })
        try {
          log.appendEncoded(values as Uint8Array[])
          if (values.length > 0) violation('appendEncoded accepted arbitrary values')
        } catch (error) {
          if (!(error instanceof LogInputError)) expectLogError(error, 'appendEncoded')
          if (log.head.seq !== 0) violation('a rejected appendEncoded moved the head')
        } finally {
          await log.close()
        }
      },
    ),
  }
}
