// Workload (issue 3): append throughput of @homedb/log in 'os' mode against plain fs.writeSync of the very same
// framed bytes in the same batch sizes: what framing, checksums, the chain and the async write path cost.
import { closeSync, openSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { payloads } from '../records.js'
import { defineWorkload, opsPerSec, type RatioSpec, type SystemRun } from '../workload.js'
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

function writeSyncSystem(size: number, batch: number): SystemRun<LogAppendParams> {
  return async (p, ctx) => {
    const { openLog } = await import('@homedb/log')
    const appends = runSize(ctx, appendsPerRun(p, size, batch), 20_000)
    // Untimed: let the log frame the same payloads, read its frames back and group them into the same batches.
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
    const batches: Buffer[] = []
    for (let i = 0; i < appends; i += batch) batches.push(Buffer.concat(frames.slice(i, i + batch)))
    const fd = openSync(join(ctx.tmpDir(), 'plain.log'), 'wx')
    const crcFd = openSync(join(ctx.tmpDir(), 'crc.log'), 'wx')
    try {
      const start = performance.now()
      for (const buf of batches) {
        let done = 0
        while (done < buf.byteLength) done += writeSync(fd, buf, done)
      }
      const elapsed = performance.now() - start
      // Secondary: the same, but each frame's CRC32C is computed (and stored) before its batch is written, with the
      // CRC library the log uses: the least any checksummed format pays per frame. Not the goal's baseline.
      const crc32c = crcFromLog()
      const crcStart = performance.now()
      for (let i = 0; i < appends; i += batch) {
        const end = Math.min(appends, i + batch)
        for (let j = i; j < end; j++) {
          const frame = frames[j]!
          frame.writeUInt32LE(crc32c(frame.subarray(8)), 4)
        }
        const buf = end - i === 1 ? frames[i]! : Buffer.concat(frames.slice(i, end))
        let done = 0
        while (done < buf.byteLength) done += writeSync(crcFd, buf, done)
      }
      const crcElapsed = performance.now() - crcStart
      return opsPerSec(appends, elapsed, {
        mbPerSec: (appends * (size + FRAME_OVERHEAD)) / 1e6 / (elapsed / 1000),
        withCrcOpsPerSec: appends / (crcElapsed / 1000),
      })
    } finally {
      closeSync(fd)
      closeSync(crcFd)
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
    ratios[`log-append homedb/writeSync ${v}`] = { of: `homedb-log-${v}`, to: `writeSync-${v}` }
  }
}

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
    'writing these bytes. Payloads are pseudo-random bytes; `b1` awaits every append alone, `b1000` appends ' +
    '1000 per turn. `mbPerSec` counts frame bytes (payload + 28-byte header). `withCrcOpsPerSec` (writeSync ' +
    'systems only, not the goal’s baseline) repeats the writes after computing every frame’s CRC32C with ' +
    'the `@node-rs/crc32` build the log uses and concatenating each batch: the least a checksummed format pays.',
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
    'log-append 100B-b1000 ≥ 0.7× writeSync': {
      text: "log appends ('os', 100 B, 1000 per turn) ≥ 0.7× fs.writeSync of the same frames",
      source: 'issue 3',
      ratio: 'log-append homedb/writeSync 100B-b1000',
      atLeast: 0.7,
    },
    'log-append 1024B-b1000 ≥ 0.7× writeSync': {
      text: "log appends ('os', 1 KiB, 1000 per turn) ≥ 0.7× fs.writeSync of the same frames",
      source: 'issue 3',
      ratio: 'log-append homedb/writeSync 1024B-b1000',
      atLeast: 0.7,
    },
    'log-append 100B-b1 ≥ 0.7× writeSync': {
      text: "log appends ('os', 100 B, each awaited) ≥ 0.7× fs.writeSync of the same frames",
      source: 'issue 3',
      ratio: 'log-append homedb/writeSync 100B-b1',
      atLeast: 0.7,
    },
    'log-append 1024B-b1 ≥ 0.7× writeSync': {
      text: "log appends ('os', 1 KiB, each awaited) ≥ 0.7× fs.writeSync of the same frames",
      source: 'issue 3',
      ratio: 'log-append homedb/writeSync 1024B-b1',
      atLeast: 0.7,
    },
  },
})
