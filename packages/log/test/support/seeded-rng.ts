// Seeded randomness for torture tests: a small fast PRNG and a seed that can be pinned from the environment,
// so that a failing run can be replayed exactly (`HOMEDB_TORTURE_SEED=<seed>`).

/** A deterministic generator of floats in [0, 1) (mulberry32). */
export interface Rng {
  (): number
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number
  readonly seed: number
}

export function seededRng(seed: number): Rng {
  let state = seed >>> 0
  const next = (() => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }) as Rng
  Object.defineProperty(next, 'seed', { value: seed >>> 0 })
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1))
  return next
}

/** `HOMEDB_TORTURE_SEED` if set, otherwise a fresh random seed. */
export function tortureSeed(): number {
  const pinned = process.env.HOMEDB_TORTURE_SEED
  if (pinned !== undefined && pinned !== '') {
    const seed = Number(pinned)
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new Error(`HOMEDB_TORTURE_SEED must be an integer, got ${pinned}`)
    return seed >>> 0
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0
}

/**
 * Runs `body` with a seeded generator; if it fails, the error message is prefixed with the seed (and whatever
 * `where()` says about the progress), so the run can be replayed with `HOMEDB_TORTURE_SEED`.
 */
export async function withSeed<T>(
  name: string,
  body: (rng: Rng) => Promise<T>,
  where: () => string = () => '',
): Promise<T> {
  const seed = tortureSeed()
  try {
    return await body(seededRng(seed))
  } catch (error) {
    const context = where()
    const prefix = `[${name}: seed ${seed}${context ? `, ${context}` : ''}; replay with HOMEDB_TORTURE_SEED=${seed}] `
    if (error instanceof Error) {
      error.message = prefix + error.message
      throw error
    }
    throw new Error(prefix + String(error))
  }
}
