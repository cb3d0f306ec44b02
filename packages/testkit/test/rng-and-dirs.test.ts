// The seeded RNG replays exactly and names its seed when a run fails; temporary directories disappear with the test
// that made them; dirBytes sees every file, at any depth.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { dirBytes, SEED_ENV, seededRng, tempDir, withSeed } from '../src/index.js'

describe('seededRng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const rng = seededRng(seed)
      return [rng.next(), rng.int(1, 6), rng.chance(0.5), rng.pick(['a', 'b', 'c']), ...rng.bytes(4)]
    }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(42)).not.toEqual(draw(43))
    expect(seededRng(42).seed).toBe(42)
  })

  it('forks a generator that does not shift the parent: the parent goes on as if it had drawn one number', () => {
    const a = seededRng(7)
    const b = seededRng(7)
    const child = a.fork()
    child.next()
    child.next()
    b.next()
    expect(a.next()).toBe(b.next())
  })

  it('keeps int within its bounds and refuses to pick from nothing', () => {
    const rng = seededRng(3)
    for (let i = 0; i < 1000; i++) expect(rng.int(-2, 2)).toBeGreaterThanOrEqual(-2)
    expect(() => rng.pick([])).toThrow(RangeError)
  })
})

describe('withSeed', () => {
  const pinned = process.env[SEED_ENV]
  afterEach(() => {
    if (pinned === undefined) delete process.env[SEED_ENV]
    else process.env[SEED_ENV] = pinned
  })

  it('uses the pinned seed and puts it, with the progress, into the message of a failure', async () => {
    process.env[SEED_ENV] = '1234'
    const error = await withSeed(
      'demo',
      async (rng) => {
        expect(rng.seed).toBe(1234)
        throw new Error('broken')
      },
      () => 'round 3',
    ).catch((e: unknown) => e)
    expect((error as Error).message).toBe('[demo: seed 1234, round 3; replay with HOMEDB_TORTURE_SEED=1234] broken')
  })
})

describe('tempDir and dirBytes', () => {
  let previous: string | undefined

  it('makes a fresh empty directory', () => {
    previous = tempDir('kit')
    expect(existsSync(previous)).toBe(true)
    expect(dirBytes(previous)).toEqual({})
  })

  it('has removed the directory of the previous test once that test finished', () => {
    expect(previous).toBeDefined()
    expect(existsSync(previous!)).toBe(false)
  })

  it('lists every file at any depth with its bytes, leaving out ignored names', () => {
    const dir = tempDir('kit')
    writeFileSync(join(dir, 'a'), 'x')
    mkdirSync(join(dir, 'sub'))
    writeFileSync(join(dir, 'sub', 'b'), 'y')
    writeFileSync(join(dir, 'LOCK'), 'z')
    expect(dirBytes(dir, { ignore: ['LOCK'] })).toEqual({ a: 'eA==', 'sub/b': 'eQ==' })
  })
})
