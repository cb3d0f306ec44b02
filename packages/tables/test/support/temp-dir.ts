// Temporary directories for tests that use real files, removed after each test.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach } from 'vitest'

const made: string[] = []

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh empty directory under the OS temp dir, removed after the current test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homedb-tables-'))
  made.push(dir)
  return dir
}

/** Every file of a directory (recursively) with its bytes, to compare a directory before and after an operation. */
export function dirBytes(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string, prefix: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`)
      else out[`${prefix}${entry.name}`] = fs.readFileSync(full).toString('base64')
    }
  }
  walk(dir, '')
  return out
}
