// Which seeds a vitest run of the torture suite uses: a fixed, bounded sample by default (so CI is reproducible),
// one pinned seed with HOMEDB_TORTURE_SEED, or another window with HOMEDB_TORTURE_FIRST / HOMEDB_TORTURE_COUNT.
// Long campaigns use `pnpm torture --seeds N` instead.

function envInt(name: string): number | undefined {
  const value = process.env[name]
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`)
  return n
}

/** The seeds to run: `count` seeds from `first` unless the environment pins others. */
export function sampleSeeds(first: number, count: number): number[] {
  const pinned = envInt('HOMEDB_TORTURE_SEED')
  if (pinned !== undefined) return [pinned]
  const from = envInt('HOMEDB_TORTURE_FIRST') ?? first
  const n = envInt('HOMEDB_TORTURE_COUNT') ?? count
  return Array.from({ length: n }, (_, i) => from + i)
}
