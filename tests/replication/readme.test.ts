// The README's "Use" example runs as written (in a fresh directory, under plain node + tsx), so the docs cannot
// drift from the API.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runNode } from './support/home-process.js'

const README = fileURLToPath(new URL('../../packages/replication/README.md', import.meta.url))
const HERE = fileURLToPath(new URL('.', import.meta.url))

describe('README', () => {
  it('runs the "Use" example and prints what it says', async () => {
    const text = readFileSync(README, 'utf8')
    const example = /## Use\n\n```ts\n([\s\S]*?)```/.exec(text)![1]!
    const work = mkdtempSync(join(tmpdir(), 'homedb-readme-'))
    // Beside this test, so '@homedb/…' resolves through the tests package; paths in it are relative to `work`.
    const file = join(HERE, `.readme-example-${process.pid}.ts`)
    writeFileSync(file, `process.chdir(${JSON.stringify(work)})\n${example}`)
    try {
      const run = await runNode(file)
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.stdout).toContain('1 0\n')
      expect(run.stdout).toContain('{ size: 1 } true')
    } finally {
      rmSync(file, { force: true })
      rmSync(work, { recursive: true, force: true })
    }
  })
})
