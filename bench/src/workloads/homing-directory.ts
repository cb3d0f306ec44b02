// Workload (issue 17): directory lookups per second (where does this user live?), the embedded directory over HTTP
// beside etcd, with many lookups in flight.
import { join } from 'node:path'
import { defineWorkload, opsPerSec, type SystemRun } from '../workload.js'
import { startBenchEtcd } from './support/etcd.js'
import { ADMIN, startBenchServer } from './support/home.js'

type LookupParams = {
  /** Users in the directory. */
  readonly users: number
  /** Lookups in flight at once. */
  readonly concurrency: number
  readonly durationMs: number
}

type DirectoryOf = import('@homedb/replication').Directory

async function measure(directory: DirectoryOf, p: LookupParams, warmup: boolean) {
  const users = Array.from({ length: p.users }, (_, i) => `u${i}`)
  for (let i = 0; i < users.length; i += 64) {
    await Promise.all(
      users.slice(i, i + 64).map((u, j) => directory.register(u, `http://127.0.0.1:${7100 + ((i + j) % 3)}`)),
    )
  }
  const ms = warmup ? p.durationMs / 3 : p.durationMs
  let lookups = 0
  let n = 0
  const start = performance.now()
  const deadline = start + ms
  await Promise.all(
    Array.from({ length: p.concurrency }, async () => {
      while (performance.now() < deadline) {
        const entry = await directory.lookup(users[n++ % users.length]!)
        if (entry === undefined) throw new Error('a registered user was not found')
        lookups++
      }
    }),
  )
  return opsPerSec(lookups, performance.now() - start, { users: p.users, concurrency: p.concurrency })
}

const embedded: SystemRun<LookupParams> = async (p, ctx) => {
  const { openDirectory } = await import('@homedb/replication')
  const server = await startBenchServer([
    'directory',
    '--data',
    join(ctx.tmpDir(), 'directory'),
    '--port',
    '0',
    '--admin-token',
    ADMIN,
  ])
  const directory = openDirectory(server.url, { adminToken: ADMIN })
  try {
    return await measure(directory, p, ctx.warmup)
  } finally {
    await directory.close()
    await server.stop()
  }
}

const etcd: SystemRun<LookupParams> = async (p, ctx) => {
  const { openDirectory } = await import('@homedb/replication')
  const member = await startBenchEtcd(join(ctx.tmpDir(), 'etcd'))
  const directory = openDirectory({ etcd: { hosts: [member.host] } })
  try {
    return await measure(directory, p, ctx.warmup)
  } finally {
    await directory.close()
    await member.stop()
  }
}

/** Directory lookups per second: embedded (HTTP) and etcd. */
export const homingDirectory = defineWorkload<LookupParams>({
  name: 'homing-directory',
  title: 'Directory lookups per second: the embedded directory over HTTP, and etcd',
  description:
    '`users` users registered, then `concurrency` lookups in flight for `durationMs`, each of a different user. ' +
    '`embedded`: `homedb directory` in its own process, the HTTP client of `openDirectory(url)` (keep-alive). ' +
    '`etcd`: one etcd member on loopback (its own process), `openDirectory({ etcd })` (the etcd3 client, gRPC). ' +
    'Every lookup is a full read at the directory (no client cache: clients cache homes themselves).',
  unit: 'opsPerSec',
  params: (quick) => ({ users: quick ? 1_000 : 10_000, concurrency: 64, durationMs: quick ? 2_000 : 5_000 }),
  capMs: (quick) => (quick ? 120_000 : 300_000),
  repeats: 3,
  systems: { embedded, etcd },
  ratios: { 'embedded : etcd': { of: 'embedded', to: 'etcd' } },
  notes:
    'Embedded lookups are answered from the directory db in memory (after waiting for any write in flight to be ' +
    'durable); etcd answers linearizable reads through its raft leader.',
})
