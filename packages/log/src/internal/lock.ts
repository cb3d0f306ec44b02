// The one-writer rule: a lock file created exclusively in the log directory, holding the owner's pid and
// process start time. A lock whose process is gone (or whose pid was reused by a younger process) is stale.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { LogLockedError } from '../errors.js'
import type { FileLayer } from '../file-layer.js'
import { LOCK_FILE } from './format.js'
import { readFully, writeFully } from './io.js'

/** The most a lock file holds; a bigger one is not a lock written by homedb. */
const MAX_LOCK_BYTES = 4096

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number
  /** Process start time in clock ticks since boot (Linux /proc), or null where unknown. */
  startTime: number | null
  hostname: string
  acquiredAt: string
}

/** Locks held by this process, by directory: a second opener in the same process is refused too. */
const heldHere = new Set<string>()

/** Start time of a process from /proc/<pid>/stat (field 22), or null if not readable. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const value = Number(fields[19])
    return Number.isFinite(value) ? value : null
  } catch {
    return null
  }
}

function processAlive(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return true // cannot check another machine's processes: assume alive
  try {
    process.kill(holder.pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  if (holder.startTime === null) return true
  const start = processStartTime(holder.pid)
  return start === null || start === holder.startTime
}

/** Parses a lock file's bytes; `undefined` if it is not a lock written by homedb. */
export function parseLockFile(bytes: Uint8Array): LockHolder | undefined {
  if (bytes.byteLength > MAX_LOCK_BYTES) return undefined
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v.pid !== 'number' || !Number.isSafeInteger(v.pid) || v.pid <= 0) return undefined
  if (v.startTime !== null && typeof v.startTime !== 'number') return undefined
  if (typeof v.hostname !== 'string' || typeof v.acquiredAt !== 'string') return undefined
  return { pid: v.pid, startTime: v.startTime, hostname: v.hostname, acquiredAt: v.acquiredAt }
}

async function readLock(fs: FileLayer, path: string): Promise<LockHolder | undefined> {
  const handle = await fs.open(path, 'r')
  try {
    return parseLockFile(await readFully(handle, 0, MAX_LOCK_BYTES))
  } finally {
    await handle.close()
  }
}

/** Takes the directory's writer lock or throws {@link LogLockedError} naming the holder. Returns the release function. */
export async function acquireLock(fs: FileLayer, dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE)
  if (heldHere.has(path)) {
    throw new LogLockedError(`log ${dir} is already open for writing in this process (pid ${process.pid})`, {
      dir,
      file: path,
      holder: { pid: process.pid, hostname: hostname(), sameProcess: true },
    })
  }
  const me: LockHolder = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(path, 'wx')
      try {
        await writeFully(handle, Buffer.from(JSON.stringify(me)), 0)
        await handle.sync()
        await handle.close()
      } catch (error) {
        // Not taken after all: a lock file left behind would name this live process as the holder, and every
        // later open (this process's too) would be refused until it exits.
        await handle.close().catch(() => undefined)
        await fs.unlink(path).catch(() => undefined)
        throw error
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error
      let holder: LockHolder | undefined
      try {
        holder = await readLock(fs, path)
      } catch (readError) {
        if ((readError as NodeJS.ErrnoException).code === 'ENOENT') continue // released meanwhile: retry
        throw readError
      }
      // An unreadable lock file is one whose writer died between create and write: stale.
      if (holder !== undefined && processAlive(holder)) {
        throw new LogLockedError(
          `log ${dir} is locked by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}`,
          { dir, file: path, holder },
        )
      }
      await fs.unlink(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e
      })
    }
  }
  heldHere.add(path)
  let released = false
  return async () => {
    if (released) return
    released = true
    heldHere.delete(path)
    await fs.unlink(path).catch(() => undefined)
  }
}
