// nodeFileLayer, the real file system: `{ dsync: true }` must really open with O_DSYNC, because 'fsync' mode then
// skips the fdatasync after each batch. Checked in the kernel's own record of each open file (/proc/self/fdinfo on
// Linux, the platform the log's lock already relies on), so a handle that merely claims `dsync` cannot pass.
import { constants, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { nodeFileLayer, openLog } from '../src/index.js'

/** The open-file flags the kernel holds for every descriptor of this process open on `path`. */
function kernelFlags(path: string): number[] {
  const flags: number[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue // closed between the listing and the look
    }
    if (target !== path) continue
    const line = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
    if (!line) throw new Error(`no flags line in /proc/self/fdinfo/${fd}`)
    flags.push(Number.parseInt(line[1]!, 8))
  }
  return flags
}

const hasDsync = (flags: number): boolean => (flags & constants.O_DSYNC) === constants.O_DSYNC

describe('nodeFileLayer', () => {
  it('opens with O_DSYNC when asked, for r+ and wx, and says so on the handle', async () => {
    const dir = tempDir('file-layer')
    const existing = join(dir, 'existing')
    writeFileSync(existing, 'abc')
    const created = join(dir, 'created')
    const rw = await nodeFileLayer.open(existing, 'r+', { dsync: true })
    const wx = await nodeFileLayer.open(created, 'wx', { dsync: true })
    try {
      expect(rw.dsync).toBe(true)
      expect(wx.dsync).toBe(true)
      expect(kernelFlags(existing).map(hasDsync)).toEqual([true])
      expect(kernelFlags(created).map(hasDsync)).toEqual([true])
      // Still positional writes, and 'wx' still creates exclusively.
      await wx.write(Buffer.from('xyz'), 0, 3, 0)
      expect(readFileSync(created, 'utf8')).toBe('xyz')
      await expect(nodeFileLayer.open(created, 'wx', { dsync: true })).rejects.toMatchObject({ code: 'EEXIST' })
    } finally {
      await rw.close()
      await wx.close()
    }
  })

  it('opens without O_DSYNC by default and for reading', async () => {
    const dir = tempDir('file-layer')
    const path = join(dir, 'file')
    writeFileSync(path, 'abc')
    for (const open of [() => nodeFileLayer.open(path, 'r+'), () => nodeFileLayer.open(path, 'r', { dsync: true })]) {
      const handle = await open()
      try {
        expect(handle.dsync).toBe(false)
        expect(kernelFlags(path).map(hasDsync)).toEqual([false])
      } finally {
        await handle.close()
      }
    }
  })

  it("keeps the active segment open with O_DSYNC in 'fsync' mode and without it in 'os' mode", async () => {
    for (const durability of ['fsync', 'os'] as const) {
      const dir = tempDir('file-layer')
      const log = await openLog(dir, { durability })
      try {
        log.append(Buffer.from('one'))
        await log.sync()
        expect(kernelFlags(join(dir, 'segment-00000001.log')).map(hasDsync)).toEqual([durability === 'fsync'])
      } finally {
        await log.close()
      }
    }
  })
})
