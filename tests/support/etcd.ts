// Real etcd processes on loopback for the directory's etcd backend and its tests: one member for most tests, three
// for the test that kills a member mid-move. Fails loudly (never skips) when etcd is missing or does not start:
// `.ci/run` installs Debian's `etcd-server` when `etcd` is not on PATH.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** One etcd member: its URLs, its process, and how to kill and restart it. */
export interface EtcdMember {
  readonly name: string
  /** `127.0.0.1:PORT`, the form the etcd3 client takes in `hosts`. */
  readonly host: string
  readonly clientUrl: string
  readonly peerUrl: string
  readonly dataDir: string
  /** The running process, `undefined` while killed. */
  readonly process: ChildProcess | undefined
  /** Kills the member (SIGKILL by default) and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the member again on the same ports and data dir and waits until it answers /health. */
  restart(): Promise<void>
}

/** A cluster of real etcd processes on loopback. */
export interface EtcdCluster {
  /** Every member's `127.0.0.1:PORT`, for `new Etcd3({ hosts })`. */
  readonly hosts: string[]
  readonly members: readonly EtcdMember[]
  /** Kills every member and deletes the data dirs. */
  close(): Promise<void>
}

/** Options of {@link startEtcd}. */
export interface StartEtcdOptions {
  /** Number of members (default 1). */
  members?: number
  /** How long to wait for the cluster to become healthy, in ms (default 30 000). */
  startTimeoutMs?: number
}

const ETCD = process.env.HOMEDB_ETCD_BIN ?? 'etcd'

/** Throws a clear error when the etcd binary is not available. */
export function assertEtcdInstalled(): void {
  const probe = spawnSync(ETCD, ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `etcd is not installed (running '${ETCD} --version' failed: ${probe.error?.message ?? probe.stderr}). ` +
        "Install Debian's etcd-server (apt-get install -y etcd-server; .ci/run does it) or set HOMEDB_ETCD_BIN.",
    )
  }
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

async function healthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
    const body = (await res.json()) as { health?: string }
    return res.ok && body.health === 'true'
  } catch {
    return false
  }
}

interface MemberSpec {
  name: string
  clientPort: number
  peerPort: number
  dataDir: string
}

function spawnMember(spec: MemberSpec, initialCluster: string, state: 'new' | 'existing'): ChildProcess {
  const clientUrl = `http://127.0.0.1:${spec.clientPort}`
  const peerUrl = `http://127.0.0.1:${spec.peerPort}`
  const child = spawn(
    ETCD,
    [
      `--name=${spec.name}`,
      `--data-dir=${spec.dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      '--initial-cluster-token=homedb-test',
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  child.stderr?.resume()
  return child
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function waitHealthy(urls: readonly string[], timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const states = await Promise.all(urls.map(healthy))
    if (states.every(Boolean)) return
    if (Date.now() > deadline)
      throw new Error(`${what} did not become healthy within ${timeoutMs} ms (${urls.join(', ')})`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Starts `members` etcd processes on free loopback ports, each with its own temp data dir, and waits until every
 * member answers `/health`.
 *
 * @example
 * ```ts
 * const etcd = await startEtcd({ members: 3 })
 * const client = new Etcd3({ hosts: etcd.hosts })
 * await etcd.members[0].kill()
 * await etcd.close()
 * ```
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  assertEtcdInstalled()
  const count = options.members ?? 1
  const timeoutMs = options.startTimeoutMs ?? 30_000
  const root = mkdtempSync(path.join(os.tmpdir(), 'homedb-etcd-'))
  const specs: MemberSpec[] = []
  for (let i = 0; i < count; i++) {
    specs.push({
      name: `m${i + 1}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      dataDir: path.join(root, `m${i + 1}`),
    })
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',')
  const members = specs.map((spec) => makeMember(spec, initialCluster, timeoutMs))
  const cluster: EtcdCluster = {
    hosts: members.map((m) => m.host),
    members,
    async close() {
      await Promise.all(members.map((m) => m.kill()))
      rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    await waitHealthy(
      members.map((m) => m.clientUrl),
      timeoutMs,
      `an etcd cluster of ${count}`,
    )
  } catch (error) {
    await cluster.close()
    throw error
  }
  return cluster
}

function makeMember(spec: MemberSpec, initialCluster: string, timeoutMs: number): EtcdMember {
  let child: ChildProcess | undefined = spawnMember(spec, initialCluster, 'new')
  const clientUrl = `http://127.0.0.1:${spec.clientPort}`
  return {
    name: spec.name,
    host: `127.0.0.1:${spec.clientPort}`,
    clientUrl,
    peerUrl: `http://127.0.0.1:${spec.peerPort}`,
    dataDir: spec.dataDir,
    get process() {
      return child
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const running = child
      child = undefined
      if (!running) return
      running.kill(signal)
      await exited(running)
    },
    async restart() {
      if (child) throw new Error(`etcd member ${spec.name} is still running`)
      // The data dir already holds the member's identity: it rejoins the cluster it belonged to.
      child = spawnMember(spec, initialCluster, 'existing')
      await waitHealthy([clientUrl], timeoutMs, `etcd member ${spec.name}`)
    },
  }
}
