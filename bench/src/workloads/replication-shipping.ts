// Workload (issue 15): shipping throughput (writer → home) and replica catch-up of a large log, each as a ratio to
// copying the same log files (read, write, fsync) on the same disk.
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { lookupTable, schema } from '@homedb/tables'
import { defineWorkload, type Sample, type SystemRun } from '../workload.js'
import { startBenchHome } from './support/home.js'

type ShippingParams = {
  /** Size of the writer's log, MiB. */
  readonly logMiB: number
  /** Bytes of each commit's value. */
  readonly valueBytes: number
}

const BlobSchema = schema({ blobs: lookupTable<number, { data: string }>() })
type BlobDb = Awaited<ReturnType<typeof import('@homedb/tables').openDb<(typeof BlobSchema)['tables']>>>

function dirBytes(dir: string): number {
  let bytes = 0
  for (const name of readdirSync(dir)) if (name.endsWith('.log')) bytes += statSync(join(dir, name)).size
  return bytes
}

/** Builds (untimed) a writer whose log holds about `logMiB` of commits; returns it open. */
async function buildWriter(dir: string, p: ShippingParams, warmup: boolean): Promise<BlobDb> {
  const { openDb } = await import('@homedb/tables')
  const db = await openDb(BlobSchema, { dir, autoCompact: false })
  const target = (warmup ? Math.min(p.logMiB, 4) : p.logMiB) * 1024 * 1024
  const value = 'x'.repeat(p.valueBytes)
  for (let k = 0; dirBytes(dir) < target; ) {
    for (let i = 0; i < 256; i++) db.blobs.insert(k++, { data: value })
    await db.sync()
  }
  return db
}

const mbps = (bytes: number, ms: number): number => bytes / 1024 / 1024 / (ms / 1000)

const shipping: SystemRun<ShippingParams> = async (p, ctx) => {
  const { ship } = await import('@homedb/replication')
  const dir = join(ctx.tmpDir(), 'writer')
  const db = await buildWriter(dir, p, ctx.warmup)
  const bytes = dirBytes(dir)
  const home = await startBenchHome(join(ctx.tmpDir(), 'home'))
  try {
    const token = await home.addUser('bench')
    const start = performance.now()
    const shipper = ship(db, { home: home.url, user: 'bench', token, maxBatchBytes: 4 * 1024 * 1024 })
    await shipper.flushed()
    const ms = performance.now() - start
    await shipper.close()
    await db.close()
    return { value: mbps(bytes, ms), metrics: { ms, logMiB: bytes / 2 ** 20, commits: db.seq } }
  } finally {
    await home.stop()
  }
}

const catchUp: SystemRun<ShippingParams> = async (p, ctx) => {
  const { openReplica, ship } = await import('@homedb/replication')
  const dir = join(ctx.tmpDir(), 'writer')
  const db = await buildWriter(dir, p, ctx.warmup)
  const bytes = dirBytes(dir)
  const home = await startBenchHome(join(ctx.tmpDir(), 'home'))
  try {
    const token = await home.addUser('bench')
    const shipper = ship(db, { home: home.url, user: 'bench', token, maxBatchBytes: 4 * 1024 * 1024 })
    await shipper.flushed()
    const start = performance.now()
    const replica = await openReplica(BlobSchema, { home: home.url, user: 'bench', token })
    await replica.waitFor(db.seq, { timeoutMs: 600_000 })
    const ms = performance.now() - start
    await replica.close()
    await shipper.close()
    await db.close()
    return { value: mbps(bytes, ms), metrics: { ms, logMiB: bytes / 2 ** 20 } }
  } finally {
    await home.stop()
  }
}

const copyFiles: SystemRun<ShippingParams> = async (p, ctx) => {
  const dir = join(ctx.tmpDir(), 'writer')
  const db = await buildWriter(dir, p, ctx.warmup)
  await db.close()
  const bytes = dirBytes(dir)
  const to = join(ctx.tmpDir(), 'copy')
  const start = performance.now()
  mkdirSync(to)
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.log')) continue
    copyFileSync(join(dir, name), join(to, name))
    const fd = openSync(join(to, name), 'r')
    fsyncSync(fd)
    closeSync(fd)
  }
  const ms = performance.now() - start
  const sample: Sample = { value: mbps(bytes, ms), metrics: { ms, logMiB: bytes / 2 ** 20 } }
  return sample
}

/** Shipping throughput and replica catch-up, beside copying the files. */
export const replicationShipping = defineWorkload<ShippingParams>({
  name: 'replication-shipping',
  title: 'Shipping a log to the home and a replica catching up, as ratios to copying the files',
  description:
    'A writer (`durability: fsync`) holds a log of `logMiB` MiB of commits (each one row of `valueBytes`), built ' +
    'untimed. `ship`: a shipper sends the whole log to a home server in its own process (loopback HTTP, 4 MiB ' +
    'appends, each verified frame by frame and fsynced by the home) until the home acknowledged every commit. ' +
    '`replica-catch-up`: after the log was shipped (untimed), a replica opens on the home and applies every commit ' +
    '(sealed pages, then the tail; each frame verified, each commit decoded and applied to the tables). ' +
    '`copy-files`: `copyFileSync` of the writer\u2019s segment files plus an fsync of each, on the same disk. ' +
    'Figures are MiB of log per second.',
  unit: 'mbPerSec',
  params: (quick) => ({ logMiB: quick ? 10 : 100, valueBytes: 8 * 1024 }),
  capMs: (quick) => (quick ? 120_000 : 600_000),
  repeats: 3,
  systems: { ship: shipping, 'replica-catch-up': catchUp, 'copy-files': copyFiles },
  ratios: {
    'ship : copy-files': { of: 'ship', to: 'copy-files' },
    'replica-catch-up : copy-files': { of: 'replica-catch-up', to: 'copy-files' },
  },
  notes:
    'Copying moves bytes only; shipping also reads the log frame by frame, sends it over HTTP and has the home ' +
    'check CRC, seq and chain of every frame before its write and fsync; catching up decodes and applies every ' +
    'commit to in-memory tables (the msgpack decode and the Map updates dominate).',
})
