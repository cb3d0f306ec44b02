// The README's "Use", "Homing" and "operator page" examples run as written (in a fresh directory, under plain node + tsx), so the docs cannot
// drift from the API.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runNode } from './support/home-process.js'

const README = fileURLToPath(new URL('../../packages/replication/README.md', import.meta.url))
const HERE = fileURLToPath(new URL('.', import.meta.url))

/** Runs the README's first ts block after `heading` in a fresh directory; resolves with its stdout. */
async function runExample(heading: string): Promise<string> {
  const text = readFileSync(README, 'utf8')
  const example = new RegExp(`## ${heading}\\n\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(text)![1]!
  const work = mkdtempSync(join(tmpdir(), 'homedb-readme-'))
  // Beside this test, so '@homedb/…' resolves through the tests package; paths in it are relative to `work`.
  const file = join(HERE, `.readme-example-${process.pid}.ts`)
  writeFileSync(file, `process.chdir(${JSON.stringify(work)})\n${example}`)
  try {
    const run = await runNode(file)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    return run.stdout
  } finally {
    rmSync(file, { force: true })
    rmSync(work, { recursive: true, force: true })
  }
}

describe('README', () => {
  it('runs the "Homing" example: a directory, two homes, a move under an app and a replica', async () => {
    const stdout = await runExample('Homing: a directory, many homes, moving users')
    expect(stdout).toContain('2 true\n')
    expect(stdout).toContain("{ text: 'from b' }")
    expect(stdout).toContain("{ delivered: [ 'alice' ], undelivered: [] }")
  })

  it('runs the "operator page" example: a login through the form, logged, with the cookie it describes', async () => {
    const stdout = await runExample('The operator page \\(`/ui`\\)')
    expect(stdout).toMatch(/open http:\/\/127\.0\.0\.1:\d+\/ui and log in/)
    expect(stdout).toContain('operator page: login ok')
    expect(stdout).toContain('303 true')
  })

  it('runs the "Use" example and prints what it says', async () => {
    const stdout = await runExample('Use')
    expect(stdout).toContain('1 0\n')
    expect(stdout).toContain('{ size: 1 } true')
  })
})
