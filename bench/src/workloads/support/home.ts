// A home server for the replication workloads, in its own process (`homedb serve` under the runner's own loader
// flags), so its event loop and fsyncs do not share the measuring process's.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../../../packages/replication/src/cli/main.ts', import.meta.url))
export const ADMIN = 'bench-admin-token'

/** A running home server process. */
export interface BenchHome {
  readonly url: string
  readonly pid: number
  addUser(name: string): Promise<string>
  stop(): Promise<void>
}

/** A running `homedb` server process (serve, directory). */
export interface BenchServer {
  readonly url: string
  readonly pid: number
  stop(): Promise<void>
}

/** Starts a long-running `homedb` command (`args` after the bin) and waits for its startup output. */
export async function startBenchServer(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  let out = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m && out.includes('stop with')) resolve(m[1]!)
    })
    void exited.then(() => reject(new Error(`homedb ${args[0]} exited before listening:\n${out}`)))
  })
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** Starts `homedb serve --data dataDir` and waits for its startup output. */
export async function startBenchHome(
  dataDir: string,
  extra: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<BenchHome> {
  const server = await startBenchServer(
    ['serve', '--data', dataDir, '--port', '0', '--admin-token', ADMIN, ...extra],
    env,
  )
  const url = server.url
  return {
    url,
    pid: server.pid,
    async addUser(name) {
      const token = `${name}-token-for-the-bench`
      const answer = await fetch(`${url}/v1/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, token }),
      })
      if (answer.status !== 201) throw new Error(`adding ${name}: ${answer.status} ${await answer.text()}`)
      return token
    },
    stop: () => server.stop(),
  }
}

/** The p-th percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples')
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
