// A home server in a child process, started through the real `homedb serve` command (under tsx, as in-repo tests
// run the CLI), so tests can kill -9 it, restart it on the same port and read its fds and RSS from /proc.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../../packages/replication/src/cli/main.ts', import.meta.url))

/** A running `homedb serve` child. */
export interface HomeProcess {
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly child: ChildProcess
  /** Everything it printed so far. */
  output(): string
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>
}

/** Runs the CLI with `args` (node + tsx + the source condition), stdout and stderr captured. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=@homedb/source', '--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
}

/** A finished child's exit code and output. */
export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

async function collect(child: ChildProcess): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  return { code, stdout, stderr }
}

/** Runs the CLI to completion; resolves with its exit code and output. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return collect(spawnCli(args, env))
}

/** Runs a TypeScript file with node + tsx + the source condition; resolves with its exit code and output. */
export function runNode(file: string): Promise<RunResult> {
  const args = ['--conditions=@homedb/source', '--import', 'tsx', file]
  return collect(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
}

/** Starts `homedb serve` on `port` (0: any) and waits for its whole startup output. */
export function startHomeProcess(
  dataDir: string,
  adminToken: string,
  port = 0,
  extra: readonly string[] = [],
): Promise<HomeProcess> {
  return startServerProcess(['serve', '--data', dataDir, '--port', String(port), '--admin-token', adminToken, ...extra])
}

/** Starts a long-running `homedb` command (serve, directory) and waits for its whole startup output. */
export function startServerProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<HomeProcess> {
  return serverProcess(spawnCli(args, env))
}

/** Starts a TypeScript file that serves (it prints `listening on URL` and `stop with`), and waits until it does. */
export function startScriptProcess(file: string, args: readonly string[]): Promise<HomeProcess> {
  const child = spawn(process.execPath, ['--conditions=@homedb/source', '--import', 'tsx', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return serverProcess(child)
}

async function serverProcess(child: ChildProcess): Promise<HomeProcess> {
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (https?:\/\/[^\s]+)/.exec(out)
      if (m && out.includes('stop with')) resolve(m[1]!)
    }
    child.stdout!.on('data', check)
    void exited.then((code) => reject(new Error(`homedb serve exited (${code}) before listening:\n${out}`)))
  })
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    child,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
  }
}

/** Open file descriptors of a process (Linux /proc). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) * 1024
}
