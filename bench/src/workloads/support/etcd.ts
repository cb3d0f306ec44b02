// One etcd member on loopback for the directory workload (the `etcd` binary: Debian's etcd-server, or
// HOMEDB_ETCD_BIN). Fails loudly when it is missing or does not start.
import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'

/** A running etcd member. */
export interface BenchEtcd {
  readonly host: string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Starts one etcd member with its data in `dataDir` and waits until it answers /health. */
export async function startBenchEtcd(dataDir: string): Promise<BenchEtcd> {
  const [client, peer] = [await freePort(), await freePort()]
  const clientUrl = `http://127.0.0.1:${client}`
  const child: ChildProcess = spawn(
    process.env.HOMEDB_ETCD_BIN ?? 'etcd',
    [
      '--name=bench',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=bench=http://127.0.0.1:${peer}`,
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  )
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  child.on('error', () => undefined)
  const deadline = Date.now() + 30_000
  for (;;) {
    const ok = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
      .then(async (r) => ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false)
    if (ok) break
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error('etcd did not start (is the etcd binary installed? set HOMEDB_ETCD_BIN)')
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    host: `127.0.0.1:${client}`,
    async stop() {
      child.kill('SIGKILL')
      await exited
    },
  }
}
