// Seeded randomness for the torture suite: one 32-bit seed drives everything a run does (workload, crash point,
// crash mode, faults, simulated latency), so a failing seed replays exactly.

/** A deterministic random source (mulberry32). Never reads the clock or Math.random. */
export interface Rng {
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
