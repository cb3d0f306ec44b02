// Workload (issues 3 and 14): append throughput of @homedb/log in 'os' mode against plain fs.writeSync of the very
// same framed bytes in the same batch sizes, with and without computing each frame's CRC32C first: what framing,
// checksums, the chain and the async write path cost.
import { closeSync, openSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { payloads } from '../records.js'
import { defineWorkload, opsPerSec, type RatioSpec, type RunContext, type SystemRun } from '../workload.js'
import { commitFrames } from './support/log-frames.js'
import { runSize } from './support/measure.js'

type LogAppendParams = {
  /** Payload sizes in bytes. */
  readonly sizes: readonly number[]
  /** Appends per event-loop turn (then `await sync()`); 1 means every append is awaited on its own. */
  readonly batches: readonly number[]
  /** Bytes of frames written per run when batching (the append count follows from the frame size). */
  readonly batchedBytes: number
  /** Appends per run when every append is awaited alone. */
  readonly unbatchedAppends: number
}

const SIZES = [100, 1024]
const BATCHES = [1, 1000]
/** Distinct payloads cycled through (each run appends many more). */
const POOL = 4096
const FRAME_OVERHEAD = 28

function appendsPerRun(p: LogAppendParams, size: number, batch: number): number {
  if (batch === 1) return p.unbatchedAppends
  const n = Math.floor(p.batchedBytes / (size + FRAME_OVERHEAD))
  return Math.max(batch, n - (n % batch))
}

const variant = (size: number, batch: number): string => `${size}B-b${batch}`

/** The CRC32C function of the `@node-rs/crc32` build @homedb/log loads, resolved from the log package. */
function crcFromLog(): (input: Uint8Array) => number {
  const requireFromLog = createRequire(import.meta.resolve('@homedb/log'))
  return (requireFromLog('@node-rs/crc32') as { crc32c(input: Uint8Array): number }).crc32c
}

function homedbSystem(size: number, batch: number): SystemRun<LogAppendParams> {
  return async (p, ctx) => {
    const { openLog } = await import('@homedb/log')
    const pool = payloads(POOL, size)
    const appends = runSize(ctx, appendsPerRun(p, size, batch), 20_000)
    const log = await openLog(join(ctx.tmpDir(), 'log'), { durability: 'os' })
    try {
      const start = performance.now()
      for (let i = 0; i < appends; ) {
        const end = Math.min(appends, i + batch)
        for (; i < end; i++) log.append(pool[i % POOL]!)
        await log.sync()
      }
      const elapsed = performance.now() - start
      return opsPerSec(appends, elapsed, { mbPerSec: (appends * (size + FRAME_OVERHEAD)) / 1e6 / (elapsed / 1000) })
    } finally {
      await log.close()
    }
  }
}

/** The log's commit frames for `appends` payloads (written untimed by the log itself and read back byte for byte). */
async function framesOf(ctx: RunContext, size: number, appends: number): Promise<Buffer[]> {
  const { openLog } = await import('@homedb/log')
  const source = join(ctx.tmpDir(), 'source')
  const log = await openLog(source, { durability: 'os' })
  const pool = payloads(POOL, size)
  for (let i = 0; i < appends; ) {
    for (const end = Math.min(appends, i + 1000); i < end; i++) log.append(pool[i % POOL]!)
    await log.sync()
  }
  await log.close()
  const frames = commitFrames(source)
  if (frames.length !== appends) throw new Error(`read back ${frames.length} frames, expected ${appends}`)
  return frames
}

function writeAll(fd: number, buf: Buffer): void {
  let done = 0
  while (done < buf.byteLength) done += writeSync(fd, buf, done)
}

/** `fs.writeSync` of the log's own frames, concatenated per batch untimed: the floor for writing these bytes. */
function writeSyncSystem(size: number, batch: number): SystemRun<LogAppendParams> {
  return async (p, ctx) => {
    const appends = runSize(ctx, appendsPerRun(p, size, batch), 20_000)
    const frames = await framesOf(ctx, size, appends)
    const batches: Buffer[] = []
    for (let i = 0; i < appends; i += batch) batches.push(Buffer.concat(frames.slice(i, i + batch)))
    const fd = openSync(join(ctx.tmpDir(), 'plain.log'), 'wx')
    try {
      const start = performance.now()
      for (const buf of batches) writeAll(fd, buf)
      const elapsed = performance.now() - start
      return opsPerSec(appends, elapsed, { mbPerSec: (appends * (size + FRAME_OVERHEAD)) / 1e6 / (elapsed / 1000) })
    } finally {
      closeSync(fd)
    }
  }
}

/**
 * The same, but each frame's CRC32C is computed (and stored) before its batch is concatenated and written, with the
 * CRC library the log uses: the least any checksummed format pays per frame (issue 14's floor for appends).
 */
function writeSyncCrcSystem(size: number, batch: number): SystemRun<LogAppendParams> {
  return async (p, ctx) => {
    const appends = runSize(ctx, appendsPerRun(p, size, batch), 20_000)
    const frames = await framesOf(ctx, size, appends)
    const crc32c = crcFromLog()
    const fd = openSync(join(ctx.tmpDir(), 'crc.log'), 'wx')
    try {
      const start = performance.now()
      for (let i = 0; i < appends; i += batch) {
        const end = Math.min(appends, i + batch)
        for (let j = i; j < end; j++) {
          const frame = frames[j]!
          frame.writeUInt32LE(crc32c(frame.subarray(8)), 4)
        }
        writeAll(fd, end - i === 1 ? frames[i]! : Buffer.concat(frames.slice(i, end)))
      }
      const elapsed = performance.now() - start
      return opsPerSec(appends, elapsed, { mbPerSec: (appends * (size + FRAME_OVERHEAD)) / 1e6 / (elapsed / 1000) })
    } finally {
      closeSync(fd)
    }
  }
}

const systems: Record<string, SystemRun<LogAppendParams>> = {}
const ratios: Record<string, RatioSpec> = {}
for (const size of SIZES) {
  for (const batch of BATCHES) {
    const v = variant(size, batch)
    systems[`homedb-log-${v}`] = homedbSystem(size, batch)
    systems[`writeSync-${v}`] = writeSyncSystem(size, batch)
    systems[`writeSync-crc-${v}`] = writeSyncCrcSystem(size, batch)
    ratios[`log-append homedb/writeSync ${v}`] = { of: `homedb-log-${v}`, to: `writeSync-${v}` }
    ratios[`log-append homedb/writeSync+crc ${v}`] = { of: `homedb-log-${v}`, to: `writeSync-crc-${v}` }
  }
}

/** What stands between a batched append and the writeSync + CRC32C floor, for the goals table. */
const APPEND_GAP =
  'per append the log also computes the xxh64 chain, checks the payload and moves its positions; per 4 MiB it ' +
  'seals the segment (an fdatasync of everything written since the last seal) and creates the next one (its ' +
  'header made durable, the directory fsynced): about 2 ms per roll here, half a µs per 1 KiB append, which the ' +
  'floor (one file, never synced) does not pay; a 1 KiB frame is hashed natively (two N-API calls)'

/** @homedb/log 'os'-mode appends vs fs.writeSync of the same frames. */
export const logAppend = defineWorkload<LogAppendParams>({
  name: 'log-append',
  title: "Log appends in 'os' mode vs fs.writeSync of the same frames",
  description:
    "`homedb-log-<size>B-b<batch>`: `openLog(dir, { durability: 'os' })` (default 4 MiB segments), then `batch` " +
    'synchronous `append(payload)` calls per event-loop turn followed by `await log.sync()`, which in `os` mode ' +
    'resolves once the batch is written to the OS (no fdatasync, except the one that seals each full segment). ' +
    '`writeSync-<size>B-b<batch>`: the same commit frames, read back byte for byte from a log written untimed, ' +
    'pre-concatenated per batch, written with one `fs.writeSync` per batch to one plain file: the floor for ' +
    'writing these bytes. `writeSync-crc-<size>B-b<batch>`: the same, but every frame\u2019s CRC32C is computed ' +
    '(with the `@node-rs/crc32` build the log uses) and stored, and each batch concatenated, in the timed part: the ' +
    'least a checksummed format pays, and the goal\u2019s baseline. Payloads are pseudo-random bytes; `b1` awaits ' +
    'every append alone, `b1000` appends 1000 per turn. `mbPerSec` counts frame bytes (payload + 28-byte header).',
  notes:
    'An append encodes its frame once, in place, into the buffer its batch is written from (header fields, the ' +
    'payload copied once, the xxh64 chain and the CRC32C computed there; a payload of up to 384 bytes in one call ' +
    'into a WebAssembly module, a larger one with the native hashes); a batch of up to 1 MiB is one `writeSync` on ' +
    'the event loop (`inlineWrites`), a larger one a write handed to a libuv threadpool thread. Every 4 MiB the ' +
    'segment is sealed, made durable with an fdatasync and the next one created (two more flushes), which the ' +
    'floor, one plain file never synced, does not pay.',
  unit: 'opsPerSec',
  params: (quick) => ({
    sizes: SIZES,
    batches: BATCHES,
    batchedBytes: quick ? 8 * 1024 * 1024 : 48 * 1024 * 1024,
    unbatchedAppends: quick ? 5_000 : 20_000,
  }),
  capMs: (quick) => (quick ? 20_000 : 60_000),
  repeats: 3,
  systems,
  ratios,
  goals: {
    'log-append 100B-b1000 ≥ 0.5× writeSync+crc': {
      text: "log appends ('os', 100 B, 1000 per turn) ≥ 0.5× fs.writeSync + CRC32C of the same frames",
      source: 'issue 14',
      ratio: 'log-append homedb/writeSync+crc 100B-b1000',
      atLeast: 0.5,
      whenMissed: APPEND_GAP,
    },
    'log-append 1024B-b1000 ≥ 0.5× writeSync+crc': {
      text: "log appends ('os', 1 KiB, 1000 per turn) ≥ 0.5× fs.writeSync + CRC32C of the same frames",
      source: 'issue 14',
      ratio: 'log-append homedb/writeSync+crc 1024B-b1000',
      atLeast: 0.5,
      whenMissed: APPEND_GAP,
    },
  },
})
