// wrapFileLayer and FaultyFileLayer: a wrapper forwards everything it does not override, and the fault-injecting and
// counting layers the test suites need are all a few lines on top of it (the tables suite's layers included).
import { basename } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FaultyFileLayer, type FileLayer, SimFs, seededRng, wrapFileLayer } from '../src/index.js'

const bytes = (text: string) => new TextEncoder().encode(text)

/** A simulated disk with `/d` in it (the base layer under test). */
function disk(): SimFs {
  const fs = new SimFs(seededRng(1), { maxPause: 0 })
  fs.putDir('/d')
  return fs
}

async function writeFile(layer: FileLayer, path: string, text: string): Promise<void> {
  const handle = await layer.open(path, 'wx')
  await handle.write(bytes(text), 0, text.length, 0)
  await handle.datasync()
  await handle.close()
}

describe('wrapFileLayer', () => {
  it('keeps writeSync where write is not replaced, and drops it where write is (no write gets past an override)', async () => {
    // A base whose handles have a writeSync (the simulated disk has none): it records what it is asked to write.
    const inner: string[] = []
    const base = wrapFileLayer(disk(), {
      handle: () => ({
        writeSync: (buffer, offset, length) => {
          inner.push(new TextDecoder().decode(buffer.subarray(offset, offset + length)))
          return length
        },
      }),
    })
    const plain = await wrapFileLayer(base).open('/d/a', 'wx')
    expect(plain.writeSync?.(bytes('sync'), 0, 4, 0)).toBe(4)
    expect(inner).toEqual(['sync'])
    let seen = 0
    const counting = wrapFileLayer(base, {
      handle: (h) => ({
        write: (...args) => {
          seen++
          return h.write(...args)
        },
      }),
    })
    const observed = await counting.open('/d/b', 'wx')
    expect(observed.writeSync, 'an overridden write hides the inner writeSync').toBeUndefined()
    await observed.write(bytes('x'), 0, 1, 0)
    expect(seen).toBe(1)
    let syncSeen = 0
    const both = wrapFileLayer(base, {
      handle: (h) => ({
        write: (...args) => h.write(...args),
        writeSync: (...args) => {
          syncSeen++
          return h.writeSync!(...args)
        },
      }),
    })
    const handle = await both.open('/d/c', 'wx')
    expect(handle.writeSync?.(bytes('yz'), 0, 2, 0)).toBe(2)
    expect(syncSeen).toBe(1)
    expect(inner).toEqual(['sync', 'yz'])
    for (const h of [plain, observed, handle]) await h.close()
  })

  it('forwards every operation it does not override to the base layer', async () => {
    const base = disk()
    const layer = wrapFileLayer(base)
    await layer.mkdir('/d/sub')
    await writeFile(layer, '/d/sub/a', 'hello')
    await layer.rename('/d/sub/a', '/d/sub/b')
    await layer.syncDir('/d/sub')
    expect(await layer.readdir('/d/sub')).toEqual(['b'])
    expect(await layer.size('/d/sub/b')).toBe(5)
    const handle = await layer.open('/d/sub/b', 'r+')
    const buf = new Uint8Array(5)
    expect(await handle.read(buf, 0, 5, 0)).toBe(5)
    await handle.truncate(2)
    expect(await handle.size()).toBe(2)
    await handle.sync()
    await handle.close()
    await layer.unlink('/d/sub/b')
    expect(base.list('/d/sub')).toEqual([])
    const { calls } = base.counters
    for (const op of ['open', 'read', 'write', 'datasync', 'sync', 'truncate', 'mkdir', 'rename', 'unlink'] as const) {
      expect(calls[op], op).toBeGreaterThan(0)
    }
  })

  it('replaces only the operations it is given, on the layer and on every handle it opens', async () => {
    const base = disk()
    const seen: string[] = []
    const layer = wrapFileLayer(base, {
      syncDir: async (dir) => {
        seen.push(`syncDir ${dir}`)
        return base.syncDir(dir)
      },
      handle: (handle, path, mode) => ({
        write: (buffer, offset, length, position) => {
          seen.push(`write ${basename(path)} ${mode} ${length}`)
          return handle.write(buffer, offset, length, position)
        },
      }),
    })
    await writeFile(layer, '/d/f', 'abc')
    await layer.syncDir('/d')
    expect(seen).toEqual(['write f wx 3', 'syncDir /d'])
    expect(base.readFile('/d/f')).toEqual(bytes('abc'))
  })

  it('passes { dsync } to the base layer and reports the handle it got, through handle replacements too', async () => {
    const base = disk()
    const layer = wrapFileLayer(base, { handle: (handle) => ({ read: (...args) => handle.read(...args) }) })
    const dsync = await layer.open('/d/a', 'wx', { dsync: true })
    const plain = await layer.open('/d/b', 'wx')
    expect(dsync.dsync).toBe(true)
    expect(plain.dsync).toBe(false)
    await dsync.write(bytes('x'), 0, 1, 0)
    expect(base.pendingCounts().dataOps, 'the dsync write went to a dsync handle of the base').toBe(0)
    // A layer that drops the option gets, and reports, a plain handle: the log then fdatasyncs itself.
    const dropping = wrapFileLayer(base, { open: (path, mode) => base.open(path, mode) })
    expect((await dropping.open('/d/c', 'wx', { dsync: true })).dsync).toBe(false)
  })

  it("forwards the base layer's watch, and `watch: null` takes it away", () => {
    const watching = wrapFileLayer(disk(), { watch: () => ({ close: () => undefined }) })
    expect(wrapFileLayer(watching).watch).toBeTypeOf('function')
    expect(wrapFileLayer(watching, { watch: null }).watch).toBeUndefined()
  })

  it('builds a layer whose writes and syncs fail once a switch is set (the tables fail-stop tests)', async () => {
    const base = disk()
    let failing = false
    const check = () => {
      if (failing) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' })
    }
    const layer = wrapFileLayer(base, {
      handle: (h) => ({
        write: async (...args) => {
          check()
          return h.write(...args)
        },
        datasync: async () => {
          check()
          return h.datasync()
        },
      }),
    })
    await writeFile(layer, '/d/ok', 'fine')
    failing = true
    await expect(writeFile(layer, '/d/bad', 'nope')).rejects.toMatchObject({ code: 'EIO' })
  })

  it('builds a layer that counts writes to snapshot files being created (the tables compaction tests)', async () => {
    let writes = 0
    const layer = wrapFileLayer(disk(), {
      handle: (h, path, mode) =>
        mode === 'wx' && basename(path).startsWith('snapshot-')
          ? {
              write: (...args) => {
                writes++
                return h.write(...args)
              },
            }
          : {},
    })
    await writeFile(layer, '/d/snapshot-1.snap.tmp', 'x')
    await writeFile(layer, '/d/segment-1.log', 'y')
    expect(writes).toBe(1)
  })
})

describe('FaultyFileLayer', () => {
  it('fails the nth call of any of several operations, once, and counts every call', async () => {
    const layer = new FaultyFileLayer(disk())
    // What the tables model test does: an I/O error at the 3rd writing operation from now, whichever it is.
    const fault = layer.arm({ op: ['open', 'write', 'datasync', 'syncDir'], nth: 3, code: 'ENOSPC' })
    const error = await writeFile(layer, '/d/f', 'abc').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ENOSPC', syscall: 'datasync', path: '/d/f' })
    expect(fault.fired.map((c) => c.op)).toEqual(['datasync'])
    expect(layer.counts).toMatchObject({ open: 1, write: 1, datasync: 1 })
    await writeFile(layer, '/d/g', 'abc')
    expect(layer.injected).toHaveLength(1)
  })

  it('lands half of a torn write before the error, and keeps failing a persistent fault', async () => {
    const base = disk()
    const layer = new FaultyFileLayer(base)
    layer.arm({ op: 'write', torn: true, persistent: true })
    const handle = await layer.open('/d/f', 'wx')
    await expect(handle.write(bytes('abcdefgh'), 0, 8, 0)).rejects.toMatchObject({ code: 'EIO' })
    await expect(handle.write(bytes('abcdefgh'), 0, 8, 0)).rejects.toMatchObject({ code: 'EIO' })
    expect(base.readFile('/d/f')).toEqual(bytes('abcd'))
    await handle.close()
  })

  it('passes { dsync } through, records it on the open call and reports the handle it got', async () => {
    const layer = new FaultyFileLayer(disk(), { record: true })
    const handle = await layer.open('/d/a', 'wx', { dsync: true })
    expect(handle.dsync).toBe(true)
    expect(layer.calls).toEqual([{ op: 'open', path: '/d/a', mode: 'wx', dsync: true }])
  })

  it('releases a handle whose close fails, and tracks the handles left open', async () => {
    const layer = new FaultyFileLayer(disk())
    const handle = await layer.open('/d/f', 'wx')
    expect([...layer.openHandles.values()]).toEqual(['/d/f'])
    layer.arm({ op: 'close' })
    await expect(handle.close()).rejects.toMatchObject({ code: 'EIO' })
    expect([...layer.openHandles.values()]).toEqual([])
  })
})
