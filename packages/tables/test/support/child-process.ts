// Runs a TypeScript fixture (test/fixtures/<name>.ts) as a real child process, talking to it in lines: the
// parent writes commands to its stdin and reads its stdout line by line (Node 20 needs tsx to run .ts).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

/** A child process and its stdout as a queue of lines. */
export interface LineChild {
  readonly process: ChildProcess
  /** The next stdout line; rejects if the child exits first. */
  nextLine(): Promise<string>
  /** Writes one line to the child's stdin. */
  send(line: string): void
  /** Resolves with the exit code once the child has exited. */
  exited: Promise<number | null>
  /** Kills the child if it still runs (cleanup after a failure). */
  kill(): void
}

/** Starts `test/fixtures/<name>.ts` with the given arguments, cwd the package root. stderr is passed through. */
export function startLineChild(name: string, args: readonly string[]): LineChild {
  const script = fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url))
  const child = spawn(process.execPath, ['--conditions=@homedb/source', '--import', 'tsx', script, ...args], {
    cwd: packageRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = []
  let ended: Error | undefined
  let rest = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    rest += chunk.toString('utf8')
    const parts = rest.split('\n')
    rest = parts.pop()!
    for (const line of parts) {
      const waiter = waiting.shift()
      if (waiter !== undefined) waiter.resolve(line)
      else lines.push(line)
    }
  })
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = new Error(`the child exited (code ${code}, signal ${signal}) before printing the expected line`)
      for (const waiter of waiting.splice(0)) waiter.reject(ended)
      resolve(code)
    })
  })
  return {
    process: child,
    exited,
    nextLine() {
      const line = lines.shift()
      if (line !== undefined) return Promise.resolve(line)
      if (ended !== undefined) return Promise.reject(ended)
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
    },
    send(line) {
      child.stdin!.write(`${line}\n`)
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}
