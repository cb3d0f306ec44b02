// Spawns TypeScript fixtures as real child processes (Node 20 needs tsx to run .ts).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Starts `fixtures/<name>.ts` with the given arguments; stdout lines go to `onLine`. */
export function startFixture(
  name: string,
  args: string[],
  onLine: (line: string) => void = () => undefined,
): ChildProcess {
  const script = fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url))
  const child = spawn(process.execPath, ['--conditions=@homedb/source', '--import', 'tsx', script, ...args], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let rest = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    rest += chunk.toString('utf8')
    const lines = rest.split('\n')
    rest = lines.pop()!
    for (const line of lines) onLine(line)
  })
  return child
}

/** Resolves with the first stdout line equal to `expected`. */
export function waitForLine(child: ChildProcess, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let rest = ''
    const onData = (chunk: Buffer) => {
      rest += chunk.toString('utf8')
      if (rest.split('\n').includes(expected)) {
        child.stdout!.off('data', onData)
        resolve()
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before printing ${expected}`)))
  })
}

export function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}
