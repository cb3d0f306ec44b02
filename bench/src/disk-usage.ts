// Counts the bytes a store left on disk, for bytes-per-row figures.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Sum of the sizes of all regular files under `path` (recursively). */
export function diskBytes(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.size
  let total = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) total += diskBytes(child)
    else if (entry.isFile()) total += statSync(child).size
  }
  return total
}
