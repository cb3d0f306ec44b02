// Workload (issue 3): replay speed of @homedb/log (open + read every commit, CRC and chain checked) against reading
// the same segment files and computing each frame's CRC32C alone, with the same CRC library the log uses.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { diskBytes } from '../disk-usage.js'
import { payloads } from '../records.js'
import { defineWorkload, type Sample, type SystemRun } from '../workload.js'
import { forEachFrame, segmentFiles } from './support/log-frames.js'

type LogReplayParams = {
  /** Bytes of frames in the log. */
  readonly logBytes: number
  /** Payload size of each commit. */
  readonly payloadBytes: number
}

/** The log directory built once per child (untimed) and its size on disk. */
let built: { dir: string; bytes: number; commits: number } | undefined

async function buildLog(p: LogReplayParams, root: string): Promise<{ dir: string; bytes: number; commits: number }> {
  if (built !== undefined) return built
  const { openLog } = await import('@homedb/log')
  const dir = join(root, 'log')
  const log = await openLog(dir, { durability: 'os' })
  const pool = payloads(1024, p.payloadBytes)
  const commits = Math.ceil(p.logBytes / (p.payloadBytes + 28))
  for (let i = 0; i < commits; ) {
    for (const end = Math.min(commits, i + 1000); i < end; i++) log.append(pool[i % pool.length]!)
    await log.sync()
  }
  await log.close()
  built = { dir, bytes: diskBytes(dir), commits }
  return built
}

const mbPerSec = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000)

const homedbLog: SystemRun<LogReplayParams> = async (p, ctx) => {
  const { dir, bytes, commits } = await buildLog(p, ctx.childDir())
  const { openLog } = await import('@homedb/log')
  const start = performance.now()
  const log = await openLog(dir)
  let seen = 0
  let payloadBytes = 0
  for await (const c of log.read()) {
    seen++
    payloadBytes += c.payload.byteLength
  }
  if (payloadBytes !== commits * p.payloadBytes) throw new Error(`replayed ${payloadBytes} payload bytes`)
  const ms = performance.now() - start
  await log.close()
  if (seen !== commits) throw new Error(`replayed ${seen} commits, expected ${commits}`)
  const sample: Sample = { value: mbPerSec(bytes, ms), metrics: { ms, commitsPerSec: seen / (ms / 1000) } }
  return sample
}

const crcOnly: SystemRun<LogReplayParams> = async (p, ctx) => {
  const { dir, bytes, commits } = await buildLog(p, ctx.childDir())
  // The CRC32C implementation @homedb/log itself uses, resolved from the log package.
  const requireFromLog = createRequire(import.meta.resolve('@homedb/log'))
  const { crc32c } = requireFromLog('@node-rs/crc32') as { crc32c(input: Uint8Array, initial?: number): number }
  const start = performance.now()
  let frames = 0
  let bad = 0
  for (const file of segmentFiles(dir)) {
    forEachFrame(readFileSync(file), (buf, from, to) => {
      frames++
      if (crc32c(buf.subarray(from + 8, to)) !== buf.readUInt32LE(from + 4)) bad++
    })
  }
  const ms = performance.now() - start
  if (bad > 0) throw new Error(`${bad} frames failed their CRC`)
  if (frames < commits) throw new Error(`checked ${frames} frames, expected at least ${commits}`)
  return { value: mbPerSec(bytes, ms), metrics: { ms, commitsPerSec: commits / (ms / 1000) } }
}

/** Log replay throughput. */
export const logReplay = defineWorkload<LogReplayParams>({
  name: 'log-replay',
  title: 'Log replay throughput',
  description:
    'A log of commits with pseudo-random payloads is written once per child (untimed, `os` mode, default 4 MiB ' +
    'segments); every run replays all of it from a warm page cache. `homedb-log`: `openLog(dir)` (a writable ' +
    'open: lock, recovery scan of the last segment) plus `for await (const c of log.read())`, which checks every ' +
    "frame's CRC32C, seq and 64-bit chain. `crc-only`: `readFileSync` of each segment and `crc32c` of each " +
    'frame body compared with the stored CRC, nothing else, with the `@node-rs/crc32` build the log itself ' +
    'loads. MB/s counts the segment files\u2019 bytes.',
  unit: 'mbPerSec',
  params: (quick) => ({ logBytes: quick ? 50e6 : 200e6, payloadBytes: 1024 }),
  capMs: (quick) => (quick ? 30_000 : 60_000),
  repeats: 3,
  systems: { 'homedb-log': homedbLog, 'crc-only': crcOnly },
  ratios: { 'log-replay homedb-log/crc-only': { of: 'homedb-log', to: 'crc-only' } },
})
