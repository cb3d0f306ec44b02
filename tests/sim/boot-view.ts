// File layers for simulated machines. Each boot of a process sees its machine's simulated disk under a path of its
// own (`/run-<n>/<machine>/b<boot>/…` mapped to `/…`): the log keeps a process-wide registry of the directories it
// holds the writer lock of, a crashed process never releases its entries, and runs follow each other in one
// process, so no boot of any machine of any run may name the directories of another. (The trace shows these paths
// without their `/run-<n>` part, so a run's trace does not depend on the runs before it.) A broken variant's disk
// (its fdatasync acknowledges without making anything durable) is built here too.
import type { FileLayer } from '@homedb/log'
import { type SimFs, wrapFileLayer } from '@homedb/testkit'

/** The path prefix boot `boot` of `machine` in run `run` sees its disk under. */
export function bootRoot(run: number, machine: string, boot: number): string {
  return `/run-${run}/${machine}/b${boot}`
}

/** `fs` as seen under `root` (a {@link bootRoot}): every path under it maps to the same path without it. */
export function bootView(fs: SimFs, root: string): FileLayer {
  const real = (path: string): string => {
    if (path === root) return '/'
    if (!path.startsWith(`${root}/`)) throw new Error(`${path} is outside ${root}`)
    return path.slice(root.length)
  }
  return wrapFileLayer(fs, {
    open: (path, mode) => fs.open(real(path), mode),
    readdir: (dir) => fs.readdir(real(dir)),
    mkdir: (dir) => fs.mkdir(real(dir)),
    rename: (from, to) => fs.rename(real(from), real(to)),
    unlink: (path) => fs.unlink(real(path)),
    syncDir: (dir) => fs.syncDir(real(dir)),
    size: (path) => fs.size(real(path)),
  })
}

/**
 * A disk that lies about durability for the files `lies` names (a home that acknowledges appends before they are
 * durable, when given its users' logs): it ignores their `O_DSYNC` (so the log falls back to fdatasync) and its
 * `fdatasync` says yes without doing it.
 */
export function lyingDisk(layer: FileLayer, lies: (path: string) => boolean): FileLayer {
  return wrapFileLayer(layer, {
    open: (path, mode, options) => layer.open(path, mode, lies(path) ? { ...options, dsync: false } : options),
    handle: (_handle, path) => (lies(path) ? { datasync: async () => undefined } : {}),
  })
}
