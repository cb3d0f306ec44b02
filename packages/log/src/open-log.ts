// openLog: checks the options, takes the writer lock, recovers the files (internal/recover-files.ts, deciding by
// internal/recovery.ts) and assembles the Log from its pieces (internal/build-log.ts).
import { dirname } from 'node:path'
import { LogConfigError } from './errors.js'
import type { FileLayer } from './file-layer.js'
import { fileLog, memoryLog } from './internal/build-log.js'
import { acquireLock } from './internal/lock.js'
import { asLogError } from './internal/log-io-errors.js'
import { type ResolvedOptions, resolveOptions } from './internal/log-options.js'
import { recoverFiles } from './internal/recover-files.js'
import type { Log, OpenLogOptions } from './types.js'

/**
 * Opens (or creates) the log in `dir`.
 *
 * @example
 * ```ts
 * import { openLog } from '@homedb/log'
 * const log = await openLog('./data/log', { durability: 'fsync' })
 * const seq = log.append(new TextEncoder().encode('hello'))
 * await log.sync() // durable now
 * for await (const { seq, payload } of log.read({ from: 0 })) console.log(seq, payload)
 * await log.close()
 * ```
 */
export async function openLog(dir: string | undefined, options: OpenLogOptions = {}): Promise<Log> {
  const o = resolveOptions(dir, options)
  if (o.durability === 'memory') return memoryLog(dir, o)
  const path = dir as string
  try {
    return await openFiles(path, o)
  } catch (error) {
    throw asLogError(error, 'open', { dir })
  }
}

async function openFiles(dir: string, o: ResolvedOptions): Promise<Log> {
  const fs = o.fs
  if (o.readOnly || o.mustExist) {
    if ((await fs.size(dir)) === undefined) throw new LogConfigError(`no log at ${dir}`, { dir })
  } else {
    await makeDirDurable(fs, dir)
  }
  const releaseLock = o.readOnly ? undefined : await acquireLock(fs, dir)
  try {
    const recovered = await recoverFiles(fs, dir, {
      writable: !o.readOnly,
      // 'fsync' mode writes the active segment through O_DSYNC where the file layer can (FORMAT.md › Writing).
      dsync: !o.readOnly && o.durability === 'fsync',
      mustExist: o.mustExist,
      create: o.create,
      preallocateBytes: o.readOnly ? 0 : o.preallocateBytes,
    })
    return fileLog(dir, o, recovered, releaseLock)
  } catch (error) {
    await releaseLock?.()
    throw error
  }
}

/**
 * Creates `dir` if needed and fsyncs its parents, so that the directory cannot vanish in a power cut with
 * acknowledged commits inside (FORMAT.md › Recovery 1). Done at every writable open, as a previous run may have
 * created the directory and died before that fsync.
 */
async function makeDirDurable(fs: FileLayer, dir: string): Promise<void> {
  const created: string[] = []
  for (let d = dir; (await fs.size(d)) === undefined && dirname(d) !== d; d = dirname(d)) created.unshift(d)
  await fs.mkdir(dir)
  for (const d of created.length > 0 ? created : [dir]) await fs.syncDir(dirname(d))
}
