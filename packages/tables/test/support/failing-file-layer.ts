// A file layer over the real file system whose writes and syncs can be made to fail, to drive the log into
// its fail-stop state from a tables test.
import { type FileHandleLike, type FileLayer, nodeFileLayer } from '@homedb/log'

/** The real file system, plus a switch: once `failing` is set, every write and datasync throws EIO. */
export function failingFileLayer(): FileLayer & { failing: boolean } {
  const layer = {
    failing: false,
    async open(path: string, mode: 'r' | 'r+' | 'wx'): Promise<FileHandleLike> {
      const handle = await nodeFileLayer.open(path, mode)
      const check = (): void => {
        if (layer.failing) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' })
      }
      return {
        read: (b, o, l, p) => handle.read(b, o, l, p),
        write: async (b, o, l, p) => {
          check()
          return handle.write(b, o, l, p)
        },
        datasync: async () => {
          check()
          return handle.datasync()
        },
        sync: async () => {
          check()
          return handle.sync()
        },
        truncate: (n) => handle.truncate(n),
        size: () => handle.size(),
        close: () => handle.close(),
      }
    },
    readdir: (dir: string) => nodeFileLayer.readdir(dir),
    mkdir: (dir: string) => nodeFileLayer.mkdir(dir),
    rename: (a: string, b: string) => nodeFileLayer.rename(a, b),
    unlink: (p: string) => nodeFileLayer.unlink(p),
    syncDir: (dir: string) => nodeFileLayer.syncDir(dir),
    size: (p: string) => nodeFileLayer.size(p),
  }
  return layer
}
