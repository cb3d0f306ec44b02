// Deterministic test data, so every system in a workload stores exactly the same records.

/** A small record (~100 bytes as JSON), the typical row of a per-user app database. */
export interface SmallRecord {
  readonly id: string
  readonly name: string
  readonly email: string
  readonly age: number
  readonly active: boolean
  readonly tags: readonly string[]
}

const TAGS = ['red', 'green', 'blue', 'work', 'home', 'todo', 'done', 'later']

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The key of record `i`: fixed width so keys sort in insertion order. */
export function recordKey(i: number): string {
  return 'u' + i.toString(36).padStart(8, '0')
}

/** Generates `count` small records; the same `seed` always yields the same records. */
export function smallRecords(count: number, seed = 1): SmallRecord[] {
  const random = prng(seed)
  const out: SmallRecord[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const r = random()
    const id = recordKey(i)
    out[i] = {
      id,
      name: `user ${Math.floor(r * 1e9).toString(36)}`,
      email: `${id}@example.com`,
      age: 18 + Math.floor(r * 70),
      active: r < 0.7,
      tags: [TAGS[i % TAGS.length]!, TAGS[Math.floor(r * TAGS.length)]!],
    }
  }
  return out
}

/**
 * `count` opaque payloads of exactly `size` bytes (pseudo-random, so compression or zero-page tricks cannot help);
 * the same `seed` always yields the same bytes.
 */
export function payloads(count: number, size: number, seed = 7): Uint8Array[] {
  const random = prng(seed)
  const out: Uint8Array[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array(size)
    for (let j = 0; j < size; j += 4) {
      const word = (random() * 4294967296) >>> 0
      bytes[j] = word & 0xff
      if (j + 1 < size) bytes[j + 1] = (word >>> 8) & 0xff
      if (j + 2 < size) bytes[j + 2] = (word >>> 16) & 0xff
      if (j + 3 < size) bytes[j + 3] = word >>> 24
    }
    out[i] = bytes
  }
  return out
}

/** `count` indices in [0, rows), uniformly random and reproducible: the keys a point-read workload looks up. */
export function randomIndices(count: number, rows: number, seed = 3): Uint32Array {
  const random = prng(seed)
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = Math.floor(random() * rows)
  return out
}
