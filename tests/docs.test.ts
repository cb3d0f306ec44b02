// Docs that run (TinyBase's documentation test): every ```ts block of the READMEs and every `@example` in the
// packages' sources is type-checked with the repository's compiler options, and every one not marked `check` is
// run, with `// ->` comments asserted, so the docs cannot drift from the code. The conventions (programs, flags,
// preludes, paths) are in CONTRIBUTING.md, "Docs that run"; the machinery in tests/docs/.
import * as fs from 'node:fs'
import { existsSync } from 'node:fs'
import * as fsPromises from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as log from '@homedb/log'
import * as reactive from '@homedb/reactive'
import * as replication from '@homedb/replication'
import * as tables from '@homedb/tables'
import * as testkit from '@homedb/testkit'
import * as rxjs from 'rxjs'
import { beforeAll, describe, expect, it } from 'vitest'
import * as zod from 'zod'
import { exampleBlocks, markdownBlocks, sourceFiles } from './docs/extract.js'
import { docContext, type Fixtures } from './docs/fixtures.js'
import { type DocProgram, exampleProgram, programText, readmePrograms, runs } from './docs/program.js'
import { packageExports, preludeTypes } from './docs/public-names.js'
import { runProgram } from './docs/run.js'
import { type Checked, typecheck } from './docs/typecheck.js'

/** The packages whose README and `@example`s are tested. */
const PACKAGES = ['log', 'tables', 'reactive', 'replication', 'testkit']

const REPO = fileURLToPath(new URL('..', import.meta.url))
const PROGRAMS_DIR = path.join(REPO, 'tests/docs/programs')
const MODULES = {
  '@homedb/log': log,
  '@homedb/tables': tables,
  '@homedb/reactive': reactive,
  '@homedb/replication': replication,
  '@homedb/testkit': testkit,
}
const OTHER_MODULES = { rxjs, zod, 'node:fs': fs, 'node:fs/promises': fsPromises, 'node:path': path }

interface Prelude {
  setup(ctx: ReturnType<typeof docContext>): Promise<void>
  fixtures: Fixtures
}

const programs: DocProgram[] = [
  ...readmePrograms(markdownBlocks(REPO, path.join(REPO, 'README.md')), 'root', 'README.md'),
]
for (const name of PACKAGES) {
  const dir = path.join(REPO, 'packages', name)
  const readme = path.join(dir, 'README.md')
  if (existsSync(readme))
    programs.push(...readmePrograms(markdownBlocks(REPO, readme), name, `packages/${name}/README.md`))
  const autoImport = { module: `@homedb/${name}`, names: packageExports(path.join(dir, 'src/index.ts')) }
  for (const file of sourceFiles(path.join(dir, 'src'))) {
    for (const block of exampleBlocks(REPO, file)) programs.push(exampleProgram(block, name, autoImport))
  }
}

const preludes = new Map<string, Prelude>()
let checked: Map<string, Checked>

/** A program written out for the checker (`forRun` false) or for running. */
function textOf(program: DocProgram, forRun: boolean) {
  const prelude = preludes.get(program.prelude)!
  const names = { types: preludeTypes(preludeFile(program.prelude)), fixtures: Object.keys(prelude.fixtures) }
  return programText(program, names, `../preludes/${program.prelude}.js`, forRun)
}

const preludeFile = (name: string) => path.join(REPO, 'tests/docs/preludes', `${name}.ts`)

describe('docs that run', () => {
  beforeAll(async () => {
    for (const name of new Set(programs.map((p) => p.prelude))) {
      preludes.set(name, (await import(`./docs/preludes/${name}.ts`)) as Prelude)
    }
    checked = typecheck(REPO, PROGRAMS_DIR, new Map(programs.map((p) => [p.id, textOf(p, false)])))
  }, 120_000)

  it('finds examples in the root README and in every package it covers', () => {
    const files = programs.flatMap((p) => p.blocks.map((b) => b.file))
    expect(files).toContain('README.md')
    for (const name of PACKAGES) expect(files.some((f) => f.startsWith(`packages/${name}/src/`))).toBe(true)
  })

  it.each(programs.map((p) => [p.title, p] as const))('%s type-checks', (_, program) => {
    expect(checked.get(program.id)!.errors).toEqual([])
  })

  it.each(programs.filter(runs).map((p) => [p.title, p] as const))('%s runs', async (_, program) => {
    expect(checked.get(program.id)!.errors, 'it type-checks first').toEqual([])
    const prelude = preludes.get(program.prelude)!
    const ctx = docContext(testkit.tempDir('docs'), prelude.fixtures)
    try {
      await prelude.setup(ctx)
      const scope: Record<string, unknown> = {}
      for (const name of checked.get(program.id)!.used) scope[name] = await ctx.fixture(name)
      await runProgram(program.title, textOf(program, true), { ...MODULES, ...OTHER_MODULES }, ctx, scope)
    } finally {
      await ctx.close()
    }
  })
})
