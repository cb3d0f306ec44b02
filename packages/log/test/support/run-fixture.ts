// Runs a TypeScript fixture from test/fixtures in a child Node process (through tsx, with the @homedb/source
// condition so `@homedb/log` resolves to the sources), and hands its stdout to the caller line by line.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** packages/log: the child's cwd, so that `@homedb/log` (self-reference) and `tsx` resolve. */
export const packageDir = fileURLToPath(new URL('../..', import.meta.url))

export interface FixtureProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves once the child has exited and its stdout and stderr are drained. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

/**
 * Starts `test/fixtures/<script>` with `args`. `onLine` gets every complete stdout line (a line cut short by the
 * child's death is dropped: a line counts only once its newline arrived).
 */
export function runFixture(
  script: string,
  args: readonly string[],
  onLine: (line: string) => void,
  nodeOptions: readonly string[] = [],
): FixtureProcess {
  const scriptPath = fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url))
  const child = spawn(
    process.execPath,
    [...nodeOptions, '--conditions=@homedb/source', '--import', 'tsx', scriptPath, ...args],
    { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  if (child.pid === undefined) throw new Error(`could not start ${script}`)
  let partial = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) onLine(line)
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
  })
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({ code, signal, stderr }))
    },
  )
  return { child, pid: child.pid, closed }
}
