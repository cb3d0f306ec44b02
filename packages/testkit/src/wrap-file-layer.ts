// The one way the kit builds a file layer from another: forward every call to `base`, except those `overrides`
// replaces (LevelDB's EnvWrapper). Counting, fault-injecting and observing layers are all made with it, so none of
// them has to list the operations it does not care about, and a new operation reaches all of them at once.
import type { FileHandleLike, FileLayer, OpenMode, OpenOptions } from './file-layer-shape.js'

/** Replacements for some of a layer's operations, and for some operations of every handle it opens. */
export interface FileLayerOverrides {
  open?: FileLayer['open']
  readdir?: FileLayer['readdir']
  mkdir?: FileLayer['mkdir']
  rename?: FileLayer['rename']
  unlink?: FileLayer['unlink']
  syncDir?: FileLayer['syncDir']
  size?: FileLayer['size']
  /** `null` removes the base layer's watch (a file system without change notices). */
  watch?: FileLayer['watch'] | null
  /**
   * Called with every handle the layer opens (after `open`, the overridden one if any); the operations it returns
   * replace the handle's own. Each replacement calls `handle` to go through. The wrapped handle reports the inner
   * one's `dsync` unless the replacements say otherwise.
   */
  handle?: (handle: FileHandleLike, path: string, mode: OpenMode) => Partial<FileHandleLike>
}

/**
 * A layer that forwards to `base` except where `overrides` says otherwise.
 *
 * @example
 * ```ts
 * let writes = 0
 * const counting = wrapFileLayer(nodeFileLayer, {
 *   handle: (h) => ({
 *     write(...args) {
 *       writes++
 *       return h.write(...args)
 *     },
 *   }),
 * })
 * const log = await openLog(dir, { fileLayer: counting })
 * ```
 */
export function wrapFileLayer(base: FileLayer, overrides: FileLayerOverrides = {}): FileLayer {
  const open =
    overrides.open ?? ((path: string, mode: OpenMode, options?: OpenOptions) => base.open(path, mode, options))
  const handleOverrides = overrides.handle
  const layer: FileLayer = {
    open: handleOverrides
      ? async (path, mode, options) => {
          const handle = await open(path, mode, options)
          return wrapHandle(handle, handleOverrides(handle, path, mode))
        }
      : open,
    readdir: overrides.readdir ?? ((dir) => base.readdir(dir)),
    mkdir: overrides.mkdir ?? ((dir) => base.mkdir(dir)),
    rename: overrides.rename ?? ((from, to) => base.rename(from, to)),
    unlink: overrides.unlink ?? ((path) => base.unlink(path)),
    syncDir: overrides.syncDir ?? ((dir) => base.syncDir(dir)),
    size: overrides.size ?? ((path) => base.size(path)),
  }
  const watch = overrides.watch === undefined ? base.watch?.bind(base) : overrides.watch
  if (watch) layer.watch = watch
  return layer
}

/**
 * A handle that forwards to `handle` except where `overrides` says otherwise (its `dsync` included). It has a
 * `writeSync` when the overrides give one, or when the inner handle has one and the overrides leave `write` alone:
 * a layer that replaces `write` (to count, fault or observe writes) without saying how to write synchronously gets
 * every write through its `write`, none past it.
 */
export function wrapHandle(handle: FileHandleLike, overrides: Partial<FileHandleLike> = {}): FileHandleLike {
  const dsync = overrides.dsync ?? handle.dsync
  const inner = overrides.write ? undefined : handle.writeSync?.bind(handle)
  const writeSync = overrides.writeSync ?? inner
  return {
    ...(dsync === undefined ? {} : { dsync }),
    ...(writeSync === undefined ? {} : { writeSync }),
    read: overrides.read ?? ((buffer, offset, length, position) => handle.read(buffer, offset, length, position)),
    write: overrides.write ?? ((buffer, offset, length, position) => handle.write(buffer, offset, length, position)),
    datasync: overrides.datasync ?? (() => handle.datasync()),
    sync: overrides.sync ?? (() => handle.sync()),
    truncate: overrides.truncate ?? ((length) => handle.truncate(length)),
    size: overrides.size ?? (() => handle.size()),
    close: overrides.close ?? (() => handle.close()),
  }
}
