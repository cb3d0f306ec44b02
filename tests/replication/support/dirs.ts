// Temporary directories for the replication tests, removed after the file's tests.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** Returns a function giving fresh paths under one temp root (created lazily by whoever uses them). */
export function tempDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), `homedb-${prefix}-`))
  let n = 0
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  return () => join(root, `d${n++}`)
}
