// A fingerprint of every file in a log directory (sha256 per file), to prove that a refused open left the bytes on
// disk exactly as they were. The LOCK file is left out: it names whoever held the directory last, not data.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

/** sha256 of every file under `dir` (recursively) except `LOCK`, by relative path. */
export function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string, prefix: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`)
      else if (!(prefix === '' && entry.name === 'LOCK')) {
        out[`${prefix}${entry.name}`] = createHash('sha256').update(fs.readFileSync(full)).digest('hex')
      }
    }
  }
  walk(dir, '')
  return out
}
