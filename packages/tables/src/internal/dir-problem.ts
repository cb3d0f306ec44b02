// Why a `dir` cannot hold a db, in words, when opening its log failed: a file where the directory should be, or a
// file among its parents. Asked only after a failure, so a working open pays nothing.
import { stat } from 'node:fs/promises'
import path from 'node:path'

/** A sentence saying what is wrong with `dir` as a db directory, or `undefined` if nothing visible is. */
export async function dirProblem(dir: string): Promise<string | undefined> {
  let at = path.resolve(dir)
  for (;;) {
    try {
      const info = await stat(at)
      if (info.isDirectory()) return undefined
      return at === path.resolve(dir)
        ? `dir "${dir}" is a file, not a directory: give the db a directory of its own`
        : `dir "${dir}" cannot be created: "${at}" is a file, not a directory`
    } catch {
      const parent = path.dirname(at)
      if (parent === at) return undefined
      at = parent
    }
  }
}
