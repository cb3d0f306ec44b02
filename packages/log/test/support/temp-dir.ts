// Temporary directories for tests, removed after each test file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

const made: string[] = []

/** A fresh empty directory under the OS temp dir, removed when the test file ends. */
export function tempDir(prefix = 'homedb-log-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (payload: Uint8Array): string => new TextDecoder().decode(payload)

/** Reads every commit of a log into [seq, text] pairs. */
export async function readAll(
  log: { read(o?: { from?: number }): AsyncIterable<{ seq: number; payload: Uint8Array }> },
  from = 0,
) {
  const out: [number, string][] = []
  for await (const c of log.read({ from })) out.push([c.seq, text(c.payload)])
  return out
}
