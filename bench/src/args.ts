// Command-line options of `pnpm bench`, parsed strictly so a typo fails instead of silently running everything.
import { isAbsolute, resolve } from 'node:path'

/** Parsed `pnpm bench` options. */
export interface BenchArgs {
  readonly quick: boolean
  /** Where to write the result JSON (absolute), or undefined for the default under bench/results/. */
  readonly json: string | undefined
  /** Workload names to run, or undefined for all. */
  readonly only: readonly string[] | undefined
  /** System names to run, or undefined for all. */
  readonly systems: readonly string[] | undefined
  /** Per-system cap override in milliseconds. */
  readonly capMs: number | undefined
  readonly repeats: number | undefined
  readonly warmup: number | undefined
  /** Directory for the stores under test (default: the OS temp dir). */
  readonly tmpRoot: string | undefined
  /** Regenerate bench/README.md and bench/charts/ from this run. */
  readonly report: boolean
  readonly list: boolean
  readonly help: boolean
}

/** The usage text printed by `pnpm bench --help`. */
export const USAGE = `Usage: pnpm bench [options]

  --quick              smaller sizes and fewer repeats (what CI-sized machines run in a minute)
  --json FILE          write the result JSON to FILE (default: bench/results/<date>-<full|quick>.json)
  --only W[,W...]      run only these workloads
  --systems S[,S...]   run only these systems (in every selected workload)
  --cap SECONDS        per-system time cap (overrides each workload's cap)
  --repeats N          measured runs per system (overrides the workload's default)
  --warmup N           discarded warm-up runs per system
  --tmp DIR            create the stores under test in DIR (default: the OS temp dir)
  --report             regenerate bench/README.md and bench/charts/ from this run
  --list               list workloads and systems, then exit
  --help               this text`

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

function positive(flag: string, value: string, allowZero = false): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`${flag} needs a positive number`)
  return n
}

/**
 * Parses argv (without node and script). A lone `--` (forwarded by `pnpm bench -- ...`) is ignored.
 * Relative paths resolve against the directory the user ran pnpm in (`INIT_CWD`), not bench/.
 */
export function parseArgs(argv: readonly string[], cwd = process.env.INIT_CWD ?? process.cwd()): BenchArgs {
  const out = {
    quick: false,
    json: undefined as string | undefined,
    only: undefined as string[] | undefined,
    systems: undefined as string[] | undefined,
    capMs: undefined as number | undefined,
    repeats: undefined as number | undefined,
    warmup: undefined as number | undefined,
    tmpRoot: undefined as string | undefined,
    report: false,
    list: false,
    help: false,
  }
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p))
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!
    if (raw === '--') continue
    const eq = raw.indexOf('=')
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined
    const value = (): string => {
      if (inline !== undefined) return inline
      const next = argv[++i]
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`)
      return next
    }
    switch (flag) {
      case '--quick':
        out.quick = true
        break
      case '--json':
        out.json = path(value())
        break
      case '--only':
        out.only = list(value())
        break
      case '--systems':
        out.systems = list(value())
        break
      case '--cap':
        out.capMs = positive(flag, value()) * 1000
        break
      case '--repeats':
        out.repeats = Math.floor(positive(flag, value()))
        break
      case '--warmup':
        out.warmup = Math.floor(positive(flag, value(), true))
        break
      case '--tmp':
        out.tmpRoot = path(value())
        break
      case '--report':
        out.report = true
        break
      case '--list':
        out.list = true
        break
      case '--help':
      case '-h':
        out.help = true
        break
      default:
        throw new Error(`unknown option ${raw}\n\n${USAGE}`)
    }
  }
  return out
}
