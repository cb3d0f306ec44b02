// Scratch directories under the OS temp dir for torture tests, each removed by the test that made it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ScratchDir {
  readonly path: string
  /** Removes the directory and everything in it (idempotent). */
  remove(): void
}

export function scratchDir(prefix: string): ScratchDir {
  const path = mkdtempSync(join(tmpdir(), `homedb-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}
