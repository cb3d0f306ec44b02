// Proves that what npm users install works: packs each publishable package as `pnpm pack` would for publishing
// (prepack builds dist/, workspace:^ becomes a real range), checks the tarballs (contents, package.json metadata,
// README links that work on the npm page), installs them with plain npm into a fresh project outside the repository,
// runs tests/pack/installed-check.mjs there with plain `node`, and type-checks tests/pack/consumer.ts there with the
// oldest and the newest TypeScript we support, `skipLibCheck: false`.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from './pack/run.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PNPM = ['-y', 'pnpm@10.34.8']
/** Dependency order: each package's build reads the types of the ones before it. */
const PACKAGES = ['log', 'tables', 'reactive', 'replication'] as const
const STEP_TIMEOUT_MS = 240_000
/** The TypeScript versions the published .d.ts must serve: the oldest supported (5.0) and the newest 5.x. */
const TYPESCRIPT = ['5.0', '5'] as const
/** @types/node for the consumer: the Node line we support (it type-checks with TypeScript 5.0 too). */
const TYPES_NODE = '20'
/**
 * READMEs whose links are checked. @homedb/replication's README is written on the replication branch, which this
 * work may not touch; it joins this list when that branch lands (its links to ../../README.md and ../log/FORMAT.md
 * are the ones to make absolute).
 */
const README_CHECKED = ['log', 'tables', 'reactive'] as const
const REPOSITORY = 'https://github.com/homedb/homedb'

interface Packed {
  readonly name: string
  readonly tarball: string
  readonly files: readonly string[]
  readonly manifest: {
    readonly name: string
    readonly dependencies?: Readonly<Record<string, string>>
    readonly peerDependencies?: Readonly<Record<string, string>>
    readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string }
    readonly homepage?: string
    readonly bugs?: { readonly url?: string }
    readonly keywords?: readonly string[]
  }
  readonly readme: string
}

let work: string
/** The npm project the tarballs were installed into (set by the install test, which the type checks build on). */
let project: string | undefined
const packed = new Map<string, Packed>()

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'homedb-pack-install-'))
  const dest = path.join(work, 'tarballs')
  mkdirSync(dest)
  for (const pkg of PACKAGES) {
    const name = `@homedb/${pkg}`
    const before = new Set(readdirSync(dest))
    run('npx', [...PNPM, '--filter', name, 'pack', '--pack-destination', dest], {
      cwd: REPO,
      timeoutMs: STEP_TIMEOUT_MS,
    })
    const created = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f))
    expect(created, `pnpm pack of ${name} should create exactly one tarball`).toHaveLength(1)
    const tarball = path.join(dest, created[0]!)
    const files = run('tar', ['-tzf', tarball], { cwd: work, timeoutMs: 30_000 }).split('\n').filter(Boolean)
    const manifest = JSON.parse(
      run('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: work, timeoutMs: 30_000 }),
    ) as Packed['manifest']
    const readme = run('tar', ['-xzOf', tarball, 'package/README.md'], { cwd: work, timeoutMs: 30_000 })
    packed.set(pkg, { name, tarball, files, manifest, readme })
  }
}, PACKAGES.length * STEP_TIMEOUT_MS)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('packed packages', () => {
  it.each(PACKAGES)('@homedb/%s ships built JS and type declarations, no tests, and no workspace: ranges', (pkg) => {
    const { name, files, manifest } = packed.get(pkg)!
    expect(manifest.name).toBe(name)
    expect(files).toContain('package/package.json')
    expect(files).toContain('package/dist/index.js')
    expect(files).toContain('package/dist/index.d.ts')
    const testFiles = files.filter((f) =>
      /(^|\/)(test|tests|__tests__)\/|\.test(-d)?\.[cm]?[jt]s$|\.spec\.[cm]?[jt]s$/.test(f),
    )
    expect(testFiles).toEqual([])
    const ranges = { ...manifest.dependencies, ...manifest.peerDependencies }
    const workspaceRanges = Object.entries(ranges).filter(([, range]) => range.startsWith('workspace:'))
    expect(workspaceRanges).toEqual([])
  })

  it.each(PACKAGES)('@homedb/%s says where it lives: repository (with directory), homepage, bugs, keywords', (pkg) => {
    const { manifest } = packed.get(pkg)!
    expect(manifest.repository).toEqual({
      type: 'git',
      url: `git+${REPOSITORY}.git`,
      directory: `packages/${pkg}`,
    })
    expect(manifest.homepage).toBe(`${REPOSITORY}/tree/main/packages/${pkg}#readme`)
    expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` })
    expect(manifest.keywords?.length).toBeGreaterThan(2)
  })

  it.each(README_CHECKED)('@homedb/%s README links work on the npm page and cite no file the tarball lacks', (pkg) => {
    const { readme, files } = packed.get(pkg)!
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
    expect(targets.length).toBeGreaterThan(0)
    for (const target of targets) {
      if (target.startsWith('#')) continue
      if (/^https?:\/\//.test(target)) continue
      // A relative link must name a file shipped in the tarball (the npm page resolves nothing else).
      const file = path.posix.normalize(`package/${target.split('#')[0]!.replace(/^\.\//, '')}`)
      expect(files, `README link ${target}`).toContain(file)
    }
    // Repository paths (tests, benchmarks, other packages) appear only as absolute links.
    const cited = [...readme.matchAll(/(?<![\w/.-])((?:test|tests|bench|packages)\/[\w./-]+)/g)].map((m) => m[1]!)
    expect(cited, 'repository paths cited outside an absolute link').toEqual([])
  })

  it(
    'install with plain npm into a fresh project and work under plain node',
    () => {
      project = path.join(work, 'project')
      mkdirSync(project)
      writeFileSync(
        path.join(project, 'package.json'),
        JSON.stringify({ name: 'homedb-installed-check', version: '1.0.0', private: true, type: 'module' }, null, 2),
      )
      // All four tarballs in one install, so their dependencies on each other resolve to these tarballs, not the registry.
      const tarballs = PACKAGES.map((pkg) => packed.get(pkg)!.tarball)
      run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, 'rxjs@^7.8.0'], {
        cwd: project,
        timeoutMs: STEP_TIMEOUT_MS,
      })
      const scope = path.join(project, 'node_modules', '@homedb')
      expect(readdirSync(scope).sort()).toEqual([...PACKAGES].sort())
      for (const pkg of PACKAGES) {
        // A nested @homedb copy would mean npm fetched an internal dependency from the registry instead.
        expect(existsSync(path.join(scope, pkg, 'node_modules', '@homedb')), `nested @homedb under ${pkg}`).toBe(false)
      }
      copyFileSync(path.join(REPO, 'tests', 'pack', 'installed-check.mjs'), path.join(project, 'check.mjs'))
      const output = run(process.execPath, ['check.mjs'], { cwd: project, timeoutMs: 60_000 })
      expect(output.trim().split('\n')).toEqual([
        '@homedb/log ok',
        '@homedb/tables ok',
        '@homedb/reactive ok',
        '@homedb/replication ok',
      ])
      // Replication's own check (the bin under plain node, a ship/replica round trip): tests/pack/replication-check.mjs.
      copyFileSync(
        path.join(REPO, 'tests', 'pack', 'replication-check.mjs'),
        path.join(project, 'replication-check.mjs'),
      )
      const replication = run(process.execPath, ['replication-check.mjs'], { cwd: project, timeoutMs: 60_000 })
      expect(replication.trim().split('\n')).toEqual([
        'homedb --help ok',
        '@homedb/replication round trip ok',
        '@homedb/replication ui ok',
      ])
    },
    STEP_TIMEOUT_MS + 60_000,
  )

  it.each(TYPESCRIPT)(
    'type-check a TypeScript consumer against the installed .d.ts with TypeScript %s and skipLibCheck: false',
    (version) => {
      if (project === undefined) throw new Error('the install test did not create the project')
      copyFileSync(path.join(REPO, 'tests', 'pack', 'consumer.ts'), path.join(project, 'consumer.ts'))
      writeFileSync(
        path.join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2022'],
            types: ['node'],
            skipLibCheck: false,
            noEmit: true,
          },
          files: ['consumer.ts'],
        }),
      )
      const spec = [`typescript@${version}`, `@types/node@${TYPES_NODE}`]
      run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', ...spec], {
        cwd: project,
        timeoutMs: STEP_TIMEOUT_MS,
      })
      const tsc = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc')
      const installed = run(process.execPath, [tsc, '--version'], { cwd: project, timeoutMs: 30_000 }).trim()
      expect(installed).toMatch(version === '5' ? /^Version 5\.\d+\.\d+$/ : /^Version 5\.0\.\d+$/)
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, timeoutMs: STEP_TIMEOUT_MS })
      // The shipped declarations name no iterator type newer than TypeScript 5.0 knows.
      for (const pkg of PACKAGES) {
        const declarations = run('grep', ['-rlE', 'MapIterator|SetIterator|ArrayIterator|IteratorObject', '.'], {
          cwd: path.join(project, 'node_modules', '@homedb', pkg, 'dist'),
          timeoutMs: 30_000,
          okExitCodes: [1],
        })
        expect(declarations, `@homedb/${pkg}`).toBe('')
      }
    },
    STEP_TIMEOUT_MS * 2,
  )
})
