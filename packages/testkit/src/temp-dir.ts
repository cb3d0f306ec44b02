// Temporary directories for tests that use real files, each removed when the test that made it finishes (or, made
// outside a test, when its file finishes), and a snapshot of a directory's bytes to prove an operation changed
// nothing.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, onTestFinished, TestRunner } from 'vitest'

/**
 * A fresh empty directory under the OS temp dir (`homedb-<prefix>-XXXXXX`). Called inside a test, it is removed
 * when that test finishes, pass or fail; called in a `describe` or at the top of a file, when the file finishes.
 *
 * @example
 * ```ts check
 * import { it } from 'vitest'
 *
 * it('keeps its commits across reopen', async () => {
 *   const dir = tempDir('log')
 *   const log = await openLog(dir)
 * })
 * ```
 */
export function tempDir(prefix = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `homedb-${prefix}-`))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  if (TestRunner.getCurrentTest()) onTestFinished(remove)
  else afterAll(remove)
  return dir
}

/**
 * Every file under `dir` (recursively, by relative path) with its bytes in base64, to compare a directory before and
 * after an operation. Names in `ignore` (at any depth) are left out.
 */
export function dirBytes(dir: string, options: { ignore?: readonly string[] } = {}): Record<string, string> {
  const ignore = new Set(options.ignore ?? [])
  const out: Record<string, string> = {}
  const walk = (d: string, prefix: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (ignore.has(entry.name)) continue
      const full = join(d, entry.name)
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`)
      else out[`${prefix}${entry.name}`] = readFileSync(full).toString('base64')
    }
  }
  walk(dir, '')
  return out
}
