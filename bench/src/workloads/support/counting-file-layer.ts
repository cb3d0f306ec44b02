// A FileLayer for @homedb/log that forwards to the real file system and counts the calls that reach the disk's
// cache flush (fdatasync, fsync, directory fsync, and writes through an O_DSYNC handle, each of which is durable
// when it returns and so flushes like an fdatasync), so workloads can report flushes per commit exactly.
import type { FileLayer } from '@homedb/log'
import { wrapFileLayer } from '@homedb/testkit'

/** Call counts of a {@link countingFileLayer}; read them before and after the measured part. */
export interface SyncCounts {
  /** `datasync()` calls on segment and snapshot files. */
  datasync: number
  /** `sync()` (full fsync) calls on files. */
  fsync: number
  /** Directory fsyncs (segment creation, snapshot rename). */
  syncDir: number
  /** `write()` and `writeSync()` calls. */
  writes: number
  /** Writes on handles opened with O_DSYNC (also counted in `writes`). */
  dsyncWrites: number
}

/** Wraps `inner` (normally `nodeFileLayer`) and counts its flushes and writes in `counts`. */
export function countingFileLayer(inner: FileLayer): { layer: FileLayer; counts: SyncCounts } {
  const counts: SyncCounts = { datasync: 0, fsync: 0, syncDir: 0, writes: 0, dsyncWrites: 0 }
  const layer = wrapFileLayer(inner, {
    // The workloads measure writers: no directory watch, as before.
    watch: null,
    syncDir(dir) {
      counts.syncDir++
      return inner.syncDir(dir)
    },
    handle: (handle) => ({
      write(buffer, offset, length, position) {
        counts.writes++
        if (handle.dsync === true) counts.dsyncWrites++
        return handle.write(buffer, offset, length, position)
      },
      // The log writes some batches inline (its `inlineWrites`): counted the same way, and kept, so the workloads
      // measure the path the log takes by default.
      ...(handle.writeSync === undefined
        ? {}
        : {
            writeSync(buffer: Uint8Array, offset: number, length: number, position: number) {
              counts.writes++
              if (handle.dsync === true) counts.dsyncWrites++
              return handle.writeSync!(buffer, offset, length, position)
            },
          }),
      datasync() {
        counts.datasync++
        return handle.datasync()
      },
      sync() {
        counts.fsync++
        return handle.sync()
      },
    }),
  })
  return { layer, counts }
}

/** Flushes (fdatasync + fsync + directory fsync + O_DSYNC writes) counted so far. */
export function flushes(counts: SyncCounts): number {
  return counts.datasync + counts.fsync + counts.syncDir + counts.dsyncWrites
}
