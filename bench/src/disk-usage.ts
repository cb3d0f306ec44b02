// Counts the bytes a store left on disk, for bytes-per-row figures. A sparse file (a preallocated log segment, a
// memory-mapped file given its size up front) counts what it stores, not its length: the smaller of its size and
// the blocks allocated to it.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Bytes a file takes: its size, or less if it has holes (never the rounding up to whole blocks). */
function stored(st: { size: number; blocks: number }): number {
  return Math.min(st.size, st.blocks * 512)
}

/** Sum of the bytes all regular files under `path` take (recursively), holes not counted. */
export function diskBytes(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return stored(st)
  let total = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) total += diskBytes(child)
    else if (entry.isFile()) total += stored(statSync(child))
  }
  return total
}
