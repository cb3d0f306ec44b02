// Fuzz properties (fast-check) for every decoder of untrusted bytes in @homedb/log: frames, segment headers, snapshot
// headers and trailers, lock files, whole snapshot files, whole log directories (segments, snapshots, lock and file
// names) and frames received through `appendEncoded`. Shared by the vitest suite (a bounded sample) and the torture
// CLI (long campaigns).
//
// White-box: the internal decoders are imported by relative path from packages/log/src/internal. That is acceptable
// for fuzzing only — no other test or package reaches into @homedb/log's internals.
import { GENESIS, type Log, LogError, LogInputError, openLog, verifyLog } from '@homedb/log'
import fc from 'fast-check'
import {
  decodeFrame,
  decodeSegmentHeader,
  decodeSnapshotHeader,
  decodeSnapshotTrailer,
  encodeChunkHeader,
  encodeFrame,
  encodeSegmentHeader,
  encodeSnapshotHeader,
  encodeSnapshotTrailer,
  FRAME_HEADER_BYTES,
  FrameType,
  type FrameTypeValue,
} from '../../packages/log/src/internal/format.js'
import { parseLockFile } from '../../packages/log/src/internal/lock.js'
import { checkSnapshotFile } from '../../packages/log/src/internal/snapshot-file.js'
import { seededRng } from './rng.js'
import { SimFs } from './sim-fs.js'

// ------------------------------------------------------------------ mutations of valid inputs

/** One edit of a byte string. `at` and lengths are reduced modulo the input's size when applied. */
export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; drop: number; insert: Uint8Array }
  | { kind: 'u32'; at: number; value: number }
  /** Overwrite a known length/count field (index into the field offsets given to {@link mutate}). */
  | { kind: 'field'; index: number; value: number }
  | { kind: 'zero'; at: number; length: number }
  | { kind: 'copy'; from: number; to: number; length: number }

/** 32-bit values that break length arithmetic: zero, small, just below/above limits, all ones. */
const INTERESTING_U32 = [
  0,
  1,
  7,
  8,
  19,
  20,
  21,
  27,
  28,
  64,
  0x7fff_ffff,
  0x8000_0000,
  0xffff_fffe,
  0xffff_ffff,
  1024 * 1024 * 1024,
  1024 * 1024 * 1024 + 1,
  16 * 1024 * 1024,
  16 * 1024 * 1024 + 1,
]

const u32Value = fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffff_ffff }))

/** Any {@link ByteMutation}. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    drop: fc.nat({ max: 64 }),
    insert: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: u32Value }),
  fc.record({ kind: fc.constant('field' as const), index: fc.nat(), value: u32Value }),
  fc.record({ kind: fc.constant('zero' as const), at: fc.nat(), length: fc.nat({ max: 128 }) }),
  fc.record({ kind: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), length: fc.nat({ max: 256 }) }),
)

/** Applies `m` to a copy of `bytes`; `fields` are offsets of length/count fields for `'field'` mutations. */
export function mutate(bytes: Uint8Array, m: ByteMutation, fields: readonly number[] = []): Uint8Array {
  const n = bytes.byteLength
  const out = Buffer.from(bytes)
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return out
      const at = m.at % n
      out[at] = out[at]! ^ (1 << m.bit)
      return out
    }
    case 'truncate':
      return out.subarray(0, m.at % (n + 1))
    case 'splice': {
      const at = m.at % (n + 1)
      return Buffer.concat([out.subarray(0, at), m.insert, out.subarray(Math.min(n, at + m.drop))])
    }
    case 'u32':
    case 'field': {
      const at =
        m.kind === 'field' && fields.length > 0
          ? fields[m.index % fields.length]!
          : (m.kind === 'u32' ? m.at : m.index) % (n + 1)
      const grown = at + 4 > n ? Buffer.concat([out, Buffer.alloc(at + 4 - n)]) : out
      grown.writeUInt32LE(m.value >>> 0, at)
      return grown
    }
    case 'zero': {
      const at = n === 0 ? 0 : m.at % n
      out.fill(0, at, Math.min(n, at + m.length))
      return out
    }
    case 'copy': {
      if (n === 0) return out
      const from = m.from % n
      const to = m.to % n
      const length = Math.min(m.length, n - from, n - to)
      out.copyWithin(to, from, from + length)
      return out
    }
  }
}

// ------------------------------------------------------------------ shared checks

/** Thrown when a property is broken (fast-check reports it with its seed and path). */
export class FuzzViolation extends Error {
  override name = 'FuzzViolation'
}

function violation(message: string): never {
  throw new FuzzViolation(message)
}

/** A rejection must be a typed LogError; anything else (TypeError, RangeError, raw fs error) breaks the property. */
function expectLogError(error: unknown, what: string): void {
  if (error instanceof FuzzViolation) throw error
  if (!(error instanceof LogError)) {
    violation(
      `${what} threw a non-homedb error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
  }
}

const FRAME_PROBLEMS = new Set(['eof', 'zeros', 'short', 'length', 'crc', 'type'])
const HEADER_PROBLEMS = new Set(['short', 'magic', 'version', 'crc'])

function checkFrameResult(result: ReturnType<typeof decodeFrame>, offset: number, end: number): void {
  if (typeof result === 'string') {
    if (!FRAME_PROBLEMS.has(result)) violation(`decodeFrame returned an unknown problem ${result}`)
    return
  }
  if (result.size < FRAME_HEADER_BYTES || offset + result.size > end) {
    violation(`decodeFrame returned a frame of ${result.size} bytes at ${offset} past the end ${end}`)
  }
  if (result.payload.byteLength !== result.size - FRAME_HEADER_BYTES) violation('decodeFrame payload length mismatch')
  if (![FrameType.commit, FrameType.seal, FrameType.marker].includes(result.type)) violation('decodeFrame bad type')
}

// ------------------------------------------------------------------ decoder properties

const frameArb = fc.record({
  type: fc.constantFrom<FrameTypeValue>(FrameType.commit, FrameType.seal, FrameType.marker),
  seq: fc.nat({ max: 2 ** 40 }),
  chain: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  payload: fc.uint8Array({ maxLength: 300 }),
})

/** Properties of the frame decoder. */
export function frameProperties() {
  return {
    arbitraryBytes: fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const offset = a % (bytes.byteLength + 1)
      const end = offset + (b % (bytes.byteLength - offset + 1))
      checkFrameResult(decodeFrame(bytes, offset, end), offset, end)
    }),
    roundTrip: fc.property(frameArb, (f) => {
      const { frame, chain } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      const decoded = decodeFrame(frame, 0, frame.byteLength)
      if (typeof decoded === 'string') violation(`a valid frame decodes as ${decoded}`)
      if (decoded.seq !== f.seq || decoded.chain !== chain || decoded.size !== frame.byteLength) violation('round trip')
      if (Buffer.compare(decoded.payload, f.payload) !== 0) violation('round trip payload')
    }),
    singleBitFlipIsDetected: fc.property(frameArb, fc.nat(), fc.nat({ max: 7 }), (f, at, bit) => {
      const { frame } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      const damaged = mutate(frame, { kind: 'flip', at, bit })
      const decoded = decodeFrame(damaged, 0, damaged.byteLength)
      if (typeof decoded !== 'string')
        violation(`a frame with bit ${bit} of byte ${at % frame.byteLength} flipped decoded`)
    }),
    mutationsNeverForge: fc.property(frameArb, fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (f, ms) => {
      const { frame } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      let damaged: Uint8Array = frame
      for (const m of ms) damaged = mutate(damaged, m, [0, 4])
      const decoded = decodeFrame(damaged, 0, damaged.byteLength)
      checkFrameResult(decoded, 0, damaged.byteLength)
      // Anything that still decodes must be the original frame, byte for byte (CRC32C).
      if (typeof decoded !== 'string' && Buffer.compare(damaged.subarray(0, decoded.size), frame) !== 0) {
        violation('a mutated frame decoded as a different valid frame')
      }
    }),
    hugeLengthsAreDamage: fc.property(frameArb, u32Value, (f, length) => {
      const { frame } = encodeFrame(f.type, f.seq, f.chain, f.payload)
      const damaged = Buffer.from(frame)
      damaged.writeUInt32LE(length >>> 0, 0)
      const decoded = decodeFrame(damaged, 0, damaged.byteLength)
      if (length > damaged.byteLength - 8 && typeof decoded !== 'string') violation('a length past the end decoded')
    }),
  }
}

const headerArb = fc.record({
  number: fc.nat({ max: 0xffff_ffff }),
  logId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  baseSeq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  baseChain: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
})

/** Properties of the segment and snapshot header decoders and the snapshot trailer decoder. */
export function headerProperties() {
  return {
    segmentArbitrary: fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
      const result = decodeSegmentHeader(bytes)
      if (typeof result === 'string' && !HEADER_PROBLEMS.has(result)) violation(`unknown problem ${result}`)
    }),
    segmentRoundTripAndFlips: fc.property(headerArb, fc.nat(), fc.nat({ max: 7 }), (h, at, bit) => {
      const bytes = encodeSegmentHeader(h)
      const decoded = decodeSegmentHeader(bytes)
      if (typeof decoded === 'string') violation(`a valid segment header decodes as ${decoded}`)
      if (decoded.number !== h.number || decoded.logId !== h.logId || decoded.baseSeq !== h.baseSeq) violation('trip')
      if (decoded.baseChain !== h.baseChain) violation('segment header chain round trip')
      if (typeof decodeSegmentHeader(mutate(bytes, { kind: 'flip', at: at % 64, bit })) !== 'string') {
        violation('a segment header with a flipped bit decoded')
      }
    }),
    segmentMutations: fc.property(headerArb, fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (h, ms) => {
      let bytes: Uint8Array = encodeSegmentHeader(h)
      for (const m of ms) bytes = mutate(bytes, m, [8, 10, 12, 60])
      const result = decodeSegmentHeader(bytes)
      if (typeof result === 'string' && !HEADER_PROBLEMS.has(result)) violation(`unknown problem ${result}`)
    }),
    snapshotHeaderArbitrary: fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
      const result = decodeSnapshotHeader(bytes)
      if (typeof result === 'string' && !HEADER_PROBLEMS.has(result)) violation(`unknown problem ${result}`)
    }),
    snapshotHeaderFlips: fc.property(headerArb, fc.nat(), fc.nat({ max: 7 }), (h, at, bit) => {
      const bytes = encodeSnapshotHeader({ logId: h.logId, seq: h.baseSeq, chain: h.baseChain })
      const decoded = decodeSnapshotHeader(bytes)
      if (typeof decoded === 'string' || decoded.seq !== h.baseSeq || decoded.chain !== h.baseChain) violation('trip')
      if (typeof decodeSnapshotHeader(mutate(bytes, { kind: 'flip', at: at % 64, bit })) !== 'string') {
        violation('a snapshot header with a flipped bit decoded')
      }
    }),
    trailerArbitrary: fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
      const result = decodeSnapshotTrailer(bytes)
      if (result !== undefined && (!Number.isFinite(result.totalBytes) || !Number.isInteger(result.chunks))) {
        violation('trailer decoded to nonsense')
      }
    }),
    trailerFlips: fc.property(
      fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      fc.nat({ max: 0xffff_ffff }),
      fc.nat(),
      fc.nat({ max: 7 }),
      (total, chunks, at, bit) => {
        const bytes = encodeSnapshotTrailer(total, chunks)
        const decoded = decodeSnapshotTrailer(bytes)
        if (!decoded || decoded.totalBytes !== total || decoded.chunks !== chunks) violation('trailer round trip')
        // Bytes 20..23 are reserved and outside the CRC: a flip there may decode, to the same values.
        const flipped = decodeSnapshotTrailer(mutate(bytes, { kind: 'flip', at: at % 24, bit }))
        if (flipped && (flipped.totalBytes !== total || flipped.chunks !== chunks))
          violation('a flipped trailer decoded')
      },
    ),
  }
}

/** Bytes that look like lock files: arbitrary bytes, arbitrary JSON, lock-shaped objects with wrong types, deep nesting. */
export const lockBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record({
      pid: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.constant(2 ** 60)),
      startTime: fc.oneof(fc.integer(), fc.constant(null), fc.string(), fc.boolean()),
      hostname: fc.oneof(fc.string(), fc.integer()),
      acquiredAt: fc.oneof(fc.string(), fc.constant(null)),
    })
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.nat({ max: 5000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.nat({ max: 5000 }).map((n) => Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
)

/** Properties of the lock file parser. */
export function lockProperties() {
  return {
    neverThrows: fc.property(lockBytes, (bytes) => {
      const holder = parseLockFile(bytes)
      if (holder === undefined) return
      if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) violation(`lock parsed with pid ${holder.pid}`)
      if (holder.startTime !== null && typeof holder.startTime !== 'number') violation('lock startTime type')
      if (typeof holder.hostname !== 'string' || typeof holder.acquiredAt !== 'string') violation('lock field types')
    }),
  }
}

// ------------------------------------------------------------------ whole files through the simulated file system

const LOG_ID = '00112233445566778899aabbccddeeff'
const DIR = '/db/log'

/** A valid snapshot file's bytes for the given chunks. */
function snapshotFileBytes(seq: number, chain: bigint, chunks: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [encodeSnapshotHeader({ logId: LOG_ID, seq, chain })]
  let total = 0
  for (const c of chunks) {
    parts.push(encodeChunkHeader(c), c)
    total += c.byteLength
  }
  parts.push(encodeSnapshotTrailer(total, chunks.length))
  return Buffer.concat(parts)
}

/** Offsets of the length fields of a snapshot file made of `chunks` (chunk lengths, then the trailer's fields). */
function snapshotFields(chunks: readonly Uint8Array[]): number[] {
  const fields: number[] = []
  let at = 64
  for (const c of chunks) {
    fields.push(at)
    at += 8 + c.byteLength
  }
  fields.push(at, at + 8, at + 16)
  return fields
}

/** Properties of the whole-file snapshot check (what `latestSnapshot()` and `verifyLog` rely on). */
export function snapshotFileProperties() {
  const chunksArb = fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 5 })
  return {
    mutatedFiles: fc.asyncProperty(
      chunksArb,
      fc.array(byteMutation, { minLength: 1, maxLength: 4 }),
      async (chunks, ms) => {
        const original = snapshotFileBytes(7, 42n, chunks)
        let bytes = original
        for (const m of ms) bytes = mutate(bytes, m, snapshotFields(chunks))
        const path = `${DIR}/snapshot-0000000000000007.snap`
        const fs = SimFs.withFiles(seededRng(1), new Map([[path, bytes]]), { maxPause: 0 })
        const result = await checkSnapshotFile(fs, path)
        if (fs.counters.maxReadLength > Math.max(64, bytes.byteLength)) {
          violation(`checking a ${bytes.byteLength}-byte snapshot read into a ${fs.counters.maxReadLength}-byte buffer`)
        }
        if ('problem' in result) return
        // Anything accepted is the original file, except perhaps the trailer's 4 reserved bytes (outside every CRC).
        const same =
          bytes.byteLength === original.byteLength &&
          Buffer.compare(bytes.subarray(0, bytes.byteLength - 4), original.subarray(0, original.byteLength - 4)) === 0
        if (!same) violation('a damaged snapshot file was accepted as complete')
        if (result.header.seq !== 7 || result.header.chain !== 42n || result.chunks !== chunks.length) {
          violation('an accepted snapshot file decoded to other values')
        }
      },
    ),
  }
}

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

/** The frame reader's window (frame-reader.ts): the most it reads at once unless a frame is bigger. */
const READ_WINDOW = 1024 * 1024

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
