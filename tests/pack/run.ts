// Runs a command for the pack-and-install test with a clean environment and a hard timeout, and fails with the
// command's own output so a broken pack or install explains itself.
import { spawnSync } from 'node:child_process'

/** Options for {@link run}. */
export interface RunOptions {
  readonly cwd: string
  /** Killed (SIGKILL) after this many milliseconds. */
  readonly timeoutMs: number
  /** Exit codes besides 0 that mean success (grep's 1: nothing found). */
  readonly okExitCodes?: readonly number[]
}

/**
 * The environment minus what a surrounding `pnpm test` / vitest injects (npm_* / pnpm_* config, NODE_OPTIONS, the
 * vitest markers), so nested npm, pnpm and node behave as they would on a user's machine.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase()
    if (lower.startsWith('npm_') || lower.startsWith('pnpm_') || lower.startsWith('vitest')) continue
    if (key === 'NODE_OPTIONS' || key === 'INIT_CWD' || key === 'NODE_ENV' || key === 'TEST') continue
    env[key] = value
  }
  return env
}

/** Runs `command args` to completion; returns stdout, throws with stdout and stderr on failure or timeout. */
export function run(command: string, args: readonly string[], options: RunOptions): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.status === 0 || (result.status !== null && options.okExitCodes?.includes(result.status))) {
    return result.stdout
  }
  const why = result.error
    ? result.error.message
    : result.signal
      ? `killed by ${result.signal} (timeout ${options.timeoutMs} ms?)`
      : `exit code ${result.status}`
  throw new Error(
    `\`${command} ${args.join(' ')}\` in ${options.cwd} failed: ${why}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  )
}
