// Scratch directories under the OS temp dir for torture tests: each is removed by the test that made it, and
// `removeAllScratch` (for an afterAll hook) catches those a timed-out test never got to remove.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ScratchDir {
  readonly path: string
  /** Removes the directory and everything in it (idempotent). */
  remove(): void
}

const made = new Set<string>()

export function scratchDir(prefix: string): ScratchDir {
  const path = mkdtempSync(join(tmpdir(), `homedb-${prefix}-`))
  made.add(path)
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true })
      made.delete(path)
    },
  }
}

/** Removes every scratch directory of this test file that is still there. */
export function removeAllScratch(): void {
  for (const path of [...made]) {
    rmSync(path, { recursive: true, force: true })
    made.delete(path)
  }
}
