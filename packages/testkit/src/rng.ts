// Seeded randomness for tests: one 32-bit seed drives everything a run does (workload, crash point, crash mode,
// faults, simulated latency), so a failing seed replays exactly. `withSeed` picks the seed (pinned from the
// environment, or fresh) and puts it in the message of any failure.

/** A deterministic random source (mulberry32). Never reads the clock or Math.random. */
export interface Rng {
  /** The seed it was made from (low 32 bits). */
  readonly seed: number
  /** A float in [0, 1). */
  next(): number
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number
  /** True with probability `p`. */
  chance(p: number): boolean
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T
  /** `length` random bytes. */
  bytes(length: number): Uint8Array
  /** An independent generator derived from this one's next output (so sub-systems do not shift each other). */
  fork(): Rng
}

/**
 * A generator seeded with `seed` (any integer; only its low 32 bits count).
 *
 * @example
 * ```ts
 * const rng = seededRng(42)
 * rng.int(1, 6) // the same number on every run with seed 42
 * ```
 */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const rng: Rng = {
    seed: seed >>> 0,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty array')
      return items[Math.floor(next() * items.length)] as T
    },
    bytes(length) {
      const out = new Uint8Array(length)
      for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256)
      return out
    },
    fork: () => seededRng(Math.floor(next() * 4294967296)),
  }
  return rng
}

/** The environment variable that pins the seed of {@link withSeed}. */
export const SEED_ENV = 'HOMEDB_TORTURE_SEED'

/** The seed pinned with `HOMEDB_TORTURE_SEED`, or a fresh random one. */
export function seedFromEnv(): number {
  const pinned = process.env[SEED_ENV]
  if (pinned !== undefined && pinned !== '') {
    const seed = Number(pinned)
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`${SEED_ENV} must be an integer, got ${pinned}`)
    return seed >>> 0
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0
}

/**
 * Runs `body` with a seeded generator (seed from {@link seedFromEnv}); if it fails, the error message is prefixed
 * with the seed (and whatever `where()` says about the progress), so the run can be replayed with
 * `HOMEDB_TORTURE_SEED=<seed>`.
 *
 * @example
 * ```ts
 * await withSeed('kill-9', async (rng) => {
 *   for (let round = 0; round < 10; round++) await killAt(rng.int(50, 400))
 * })
 * ```
 */
export async function withSeed<T>(
  name: string,
  body: (rng: Rng) => Promise<T>,
  where: () => string = () => '',
): Promise<T> {
  const seed = seedFromEnv()
  try {
    return await body(seededRng(seed))
  } catch (error) {
    const context = where()
    const prefix = `[${name}: seed ${seed}${context ? `, ${context}` : ''}; replay with ${SEED_ENV}=${seed}] `
    if (error instanceof Error) {
      error.message = prefix + error.message
      throw error
    }
    throw new Error(prefix + String(error))
  }
}
