// The simulated file system itself: what survives a crash in each mode, directory durability, dsync (O_DSYNC)
// writes, faults, stopping the world, determinism and the lock left behind at a boot. The torture runs are only as
// good as these rules.
import { describe, expect, it } from 'vitest'
import { CRASH_MODES, type CrashMode, isInjected, isSimCrash, SimFs, seededRng } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array | undefined) => (data === undefined ? undefined : new TextDecoder().decode(data))

/** A sim with /d existing durably and /d/f created, written with `parts` (one write each), fsynced after `synced`. */
async function fileWithWrites(parts: string[], synced: number, options: { syncDir?: boolean } = {}) {
  const fs = new SimFs(seededRng(1), { maxPause: 0 })
  fs.putDir('/d')
  const handle = await fs.open('/d/f', 'wx')
  let at = 0
  for (const [i, part] of parts.entries()) {
    await handle.write(bytes(part), 0, part.length, at)
    at += part.length
    if (i + 1 === synced) await handle.datasync()
  }
  if (options.syncDir ?? true) await fs.syncDir('/d')
  return fs
}

describe('SimFs crash semantics', () => {
  it('drops every unsynced write and keeps every synced one in drop mode', async () => {
    const fs = await fileWithWrites(['aa', 'bb', 'cc'], 2)
    const { fs: after, report } = fs.crash('drop', seededRng(2))
    expect(text(after.readFile('/d/f'))).toBe('aabb')
    expect(report.droppedDataOps).toBe(1)
  })

  it('keeps unsynced writes in keep-all mode, as after a process crash', async () => {
    const fs = await fileWithWrites(['aa', 'bb', 'cc'], 1)
    expect(text(fs.crash('keep-all', seededRng(2)).fs.readFile('/d/f'))).toBe('aabbcc')
  })

  it('can keep a later unsynced write without an earlier one in subset mode, leaving a hole of zeros', async () => {
    const seen = new Set<string>()
    for (let seed = 0; seed < 64; seed++) {
      const fs = await fileWithWrites(['aa', 'bb', 'cc'], 1)
      seen.add(Buffer.from(fs.crash('subset', seededRng(seed)).fs.readFile('/d/f')!).toString('hex'))
    }
    expect(seen).toContain(Buffer.from('aa\0\0cc').toString('hex'))
    expect(seen).toContain(Buffer.from('aabb').toString('hex'))
  })

  it('keeps a prefix of the unsynced writes with the last one cut at a byte in torn mode', async () => {
    for (let seed = 0; seed < 32; seed++) {
      const fs = await fileWithWrites(['aa', 'bbbb', 'cccc'], 1)
      const data = text(fs.crash('torn', seededRng(seed)).fs.readFile('/d/f'))!
      expect('aabbbbcccc'.startsWith(data)).toBe(true)
      expect(data.length).toBeGreaterThanOrEqual(2)
      expect(data.length).toBeLessThan(10)
    }
  })

  it('keeps changed 512-byte sectors old or new independently in sectors mode', async () => {
    const fs = await fileWithWrites(['x'.repeat(512), 'y'.repeat(1024)], 1)
    const outcomes = new Set<number>()
    for (let seed = 0; seed < 32; seed++)
      outcomes.add(fs.crash('sectors', seededRng(seed)).fs.readFile('/d/f')!.byteLength)
    expect([...outcomes].every((n) => n >= 512 && n <= 1536)).toBe(true)
    expect(outcomes.size).toBeGreaterThan(1)
  })

  it('loses a created file whose directory was not fsynced, even though its data was', async () => {
    const fs = await fileWithWrites(['aa'], 1, { syncDir: false })
    expect(fs.crash('drop', seededRng(1)).fs.readFile('/d/f')).toBeUndefined()
  })

  it('keeps a rename only once the directory is fsynced', async () => {
    const fs = await fileWithWrites(['aa'], 1)
    await fs.rename('/d/f', '/d/g')
    const before = fs.crash('drop', seededRng(1)).fs
    expect(before.list('/d')).toEqual(['f'])
    const fs2 = await fileWithWrites(['aa'], 1)
    await fs2.rename('/d/f', '/d/g')
    await fs2.syncDir('/d')
    expect(fs2.crash('drop', seededRng(1)).fs.list('/d')).toEqual(['g'])
  })

  it('loses a directory created without fsyncing its parent', async () => {
    const fs = new SimFs(seededRng(1), { maxPause: 0 })
    await fs.mkdir('/a/b')
    const handle = await fs.open('/a/b/f', 'wx')
    await handle.write(bytes('x'), 0, 1, 0)
    await handle.datasync()
    await fs.syncDir('/a/b')
    expect(fs.crash('drop', seededRng(1)).fs.list('/')).toEqual([])
  })

  it('flips bits only in bytes that were durable, and reports every flip', async () => {
    for (let seed = 0; seed < 32; seed++) {
      const fs = new SimFs(seededRng(1), { maxPause: 0 })
      fs.putFile('/d/segment-00000001.log', new Uint8Array(100))
      const handle = await fs.open('/d/segment-00000001.log', 'r+')
      await handle.write(new Uint8Array(50), 0, 50, 100)
      const { fs: after, report } = fs.crash('keep-all', seededRng(seed), { flipProbability: 1 })
      expect(report.flips.length).toBeGreaterThan(0)
      const data = after.readFile('/d/segment-00000001.log')!
      for (const flip of report.flips) expect(flip.offset).toBeLessThan(100)
      expect(data.subarray(100).every((b) => b === 0)).toBe(true)
    }
  })

  it('builds the same image from the same seed, and different ones from different seeds', async () => {
    const image = async (seed: number, mode: CrashMode) => {
      const fs = await fileWithWrites(['aa', 'bbbb', 'cc', 'dddddd', 'e'], 1)
      return Buffer.from(fs.crash(mode, seededRng(seed)).fs.readFile('/d/f')!).toString('hex')
    }
    for (const mode of ['subset', 'torn', 'sectors'] as const) {
      expect(await image(9, mode)).toBe(await image(9, mode))
    }
    const many = new Set<string>()
    for (let seed = 0; seed < 16; seed++) many.add(await image(seed, 'subset'))
    expect(many.size).toBeGreaterThan(1)
  })
})

describe('SimFs stops the world and injects faults', () => {
  it('fails every call of the old instance after a crash, and the scheduled call never happens', async () => {
    const fs = await fileWithWrites(['aa'], 1)
    const handle = await fs.open('/d/f', 'r+')
    fs.crashAfterCalls(1)
    const error = await handle.write(bytes('zz'), 0, 2, 0).catch((e: unknown) => e)
    expect(isSimCrash(error)).toBe(true)
    expect(fs.isDead).toBe(true)
    expect(isSimCrash(await fs.readdir('/d').catch((e: unknown) => e))).toBe(true)
    expect(text(fs.crash('keep-all', seededRng(1)).fs.readFile('/d/f'))).toBe('aa')
  })

  it('fails the nth matching call with the armed code, once', async () => {
    const fs = await fileWithWrites(['aa'], 1)
    const handle = await fs.open('/d/f', 'r+')
    fs.arm({ op: 'datasync', nth: 2, code: 'ENOSPC' })
    await handle.datasync()
    const error = (await handle.datasync().catch((e: unknown) => e)) as NodeJS.ErrnoException
    expect(error.code).toBe('ENOSPC')
    expect(isInjected(error)).toBe(true)
    await handle.datasync()
    expect(fs.fired).toHaveLength(1)
  })

  it('lands part of a write before a torn fault', async () => {
    for (let seed = 0; seed < 16; seed++) {
      const fs = new SimFs(seededRng(seed), { maxPause: 0 })
      fs.putDir('/d')
      const handle = await fs.open('/d/f', 'wx')
      fs.arm({ op: 'write', nth: 1, code: 'EIO', torn: true })
      await expect(handle.write(bytes('abcdef'), 0, 6, 0)).rejects.toMatchObject({ code: 'EIO' })
      expect('abcdef'.startsWith(text(fs.readFile('/d/f'))!)).toBe(true)
      expect(fs.readFile('/d/f')!.byteLength).toBeLessThan(6)
    }
  })

  it('never makes dirty data durable after a sync that failed and dropped it', async () => {
    const fs = await fileWithWrites(['aa'], 1)
    const handle = await fs.open('/d/f', 'r+')
    await handle.write(bytes('bb'), 0, 2, 2)
    fs.arm({ op: 'datasync', nth: 1, code: 'EIO', loseDirty: true })
    await expect(handle.datasync()).rejects.toMatchObject({ code: 'EIO' })
    await handle.datasync() // succeeds, but the dropped pages are gone
    expect(text(fs.readFile('/d/f'))).toBe('aabb') // still in the page cache
    expect(text(fs.crash('keep-all', seededRng(1)).fs.readFile('/d/f'))).toBe('aa')
  })

  it('keeps unsynced data unsynced across a process restart', async () => {
    const fs = await fileWithWrites(['aa', 'bb'], 1)
    const { fs: restarted } = fs.restart(seededRng(1))
    expect(isSimCrash(await fs.readdir('/d').catch((e: unknown) => e))).toBe(true)
    expect(text(restarted.readFile('/d/f'))).toBe('aabb')
    expect(text(restarted.crash('drop', seededRng(1)).fs.readFile('/d/f'))).toBe('aa')
  })

  it('removes, rewrites with a dead holder or tears a LOCK file at each boot, as the seed decides', async () => {
    const kinds = new Set<string>()
    for (let seed = 0; seed < 12; seed++) {
      const fs = new SimFs(seededRng(seed), { maxPause: 0 })
      fs.putDir('/db')
      const handle = await fs.open('/db/LOCK', 'wx')
      const holder = bytes(JSON.stringify({ pid: 1, startTime: 1, hostname: 'h', acquiredAt: 'now' }))
      await handle.write(holder, 0, holder.byteLength, 0)
      await handle.sync()
      await fs.syncDir('/db')
      const { fs: after, report } = fs.crash('keep-all', seededRng(seed))
      kinds.add(report.lock)
      const left = after.readFile('/db/LOCK')
      if (report.lock === 'removed') expect(left).toBeUndefined()
      if (report.lock === 'torn') expect(left!.byteLength).toBeLessThanOrEqual(8)
      if (report.lock === 'stale-start-time') {
        expect(JSON.parse(text(left)!)).toMatchObject({ pid: process.pid, acquiredAt: '2000-01-01T00:00:00.000Z' })
      }
    }
    expect(kinds.size).toBeGreaterThan(1)
  })
})

describe('SimFs dsync (O_DSYNC) writes', () => {
  /** A sim with /d durable, /d/f created durably and opened again with `{ dsync: true }`. */
  async function dsyncFile(options: { maxPause?: number; dsync?: boolean; seed?: number } = {}) {
    const fs = new SimFs(seededRng(options.seed ?? 1), {
      maxPause: options.maxPause ?? 0,
      dsync: options.dsync ?? true,
    })
    fs.putDir('/d')
    const plain = await fs.open('/d/f', 'wx')
    await plain.datasync()
    await fs.syncDir('/d')
    const handle = await fs.open('/d/f', 'r+', { dsync: true })
    return { fs, plain, handle }
  }

  it('makes a write durable once it returned, in every crash mode', async () => {
    for (const mode of CRASH_MODES) {
      const { fs, handle } = await dsyncFile()
      expect(handle.dsync).toBe(true)
      await handle.write(bytes('aa'), 0, 2, 0)
      await handle.write(bytes('bb'), 0, 2, 2)
      expect(fs.pendingCounts().dataOps).toBe(0)
      expect(text(fs.crash(mode, seededRng(3)).fs.readFile('/d/f'))).toBe('aabb')
    }
  })

  it('can still drop or tear a write that a power cut meets in flight, and that write never returns', async () => {
    const outcomes = new Set<string>()
    for (let seed = 0; seed < 64; seed++) {
      const { fs, handle } = await dsyncFile({ maxPause: 3, seed })
      await handle.write(bytes('aaaa'), 0, 4, 0)
      const inFlight = handle.write(bytes('bbbb'), 0, 4, 4).then(
        () => 'returned',
        (error: unknown) => (isSimCrash(error) ? 'crashed' : String(error)),
      )
      const mode: CrashMode = seed % 2 === 0 ? 'drop' : 'torn'
      const after = text(fs.crash(mode, seededRng(seed)).fs.readFile('/d/f'))!
      const call = await inFlight
      if (call === 'returned') expect(after).toBe('aaaabbbb')
      else {
        expect(call).toBe('crashed')
        expect('aaaabbbb'.startsWith(after) && after.length >= 4).toBe(true)
        outcomes.add(after.length === 4 ? 'dropped' : after.length < 8 ? 'torn' : 'kept')
      }
      outcomes.add(call)
    }
    expect(outcomes).toContain('returned')
    expect(outcomes).toContain('crashed')
    expect(outcomes).toContain('dropped')
    expect(outcomes).toContain('torn')
  })

  it('leaves earlier unsynced writes elsewhere in the file unsynced', async () => {
    const { fs, plain, handle } = await dsyncFile()
    await plain.write(bytes('aaaa'), 0, 4, 0)
    await handle.write(bytes('bb'), 0, 2, 4)
    expect(text(fs.crash('drop', seededRng(1)).fs.readFile('/d/f'))).toBe('\0\0\0\0bb')
  })

  it('supersedes the part of an earlier unsynced write it overwrites, and keeps the rest of it unsynced', async () => {
    const { fs, plain, handle } = await dsyncFile()
    await plain.write(bytes('aaaaaa'), 0, 6, 0)
    await handle.write(bytes('bb'), 0, 2, 2)
    expect(text(fs.readFile('/d/f'))).toBe('aabbaa')
    expect(text(fs.crash('drop', seededRng(1)).fs.readFile('/d/f'))).toBe('\0\0bb')
    const again = await dsyncFile()
    await again.plain.write(bytes('aaaaaa'), 0, 6, 0)
    await again.handle.write(bytes('bb'), 0, 2, 2)
    expect(text(again.fs.crash('keep-all', seededRng(1)).fs.readFile('/d/f'))).toBe('aabbaa')
  })

  it('makes an earlier unsynced truncate durable with the write, as a journal commit does', async () => {
    const { fs, plain, handle } = await dsyncFile()
    await plain.write(bytes('aaaaaa'), 0, 6, 0)
    await plain.datasync()
    await plain.truncate(2)
    await handle.write(bytes('bb'), 0, 2, 4)
    expect(text(fs.crash('drop', seededRng(1)).fs.readFile('/d/f'))).toBe('aa\0\0bb')
  })

  it('ignores dsync when built without it (a platform without O_DSYNC), across crashes too', async () => {
    const { fs, handle } = await dsyncFile({ dsync: false })
    expect(handle.dsync).toBe(false)
    await handle.write(bytes('aa'), 0, 2, 0)
    const { fs: after } = fs.crash('drop', seededRng(1))
    expect(after.readFile('/d/f')).toEqual(new Uint8Array(0))
    after.putDir('/e')
    expect((await after.open('/e/g', 'wx', { dsync: true })).dsync).toBe(false)
  })
})
