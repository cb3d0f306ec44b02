// One temporary directory per test file, removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** A fresh directory under the OS temp dir, deleted after the file's tests. */
export function tempDir(prefix = 'homedb-repl-'): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix))
  let n = 0
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  return () => join(root, `d${n++}`)
}
