// Proves that what npm users install works: packs each publishable package as `pnpm pack` would for publishing
// (prepack builds dist/, workspace:^ becomes a real range), checks the tarballs, installs them with plain npm into a
// fresh project outside the repository and runs tests/pack/installed-check.mjs there with plain `node`.
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

interface Packed {
  readonly name: string
  readonly tarball: string
  readonly files: readonly string[]
  readonly manifest: {
    readonly name: string
    readonly dependencies?: Readonly<Record<string, string>>
    readonly peerDependencies?: Readonly<Record<string, string>>
  }
}

let work: string
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
    packed.set(pkg, { name, tarball, files, manifest })
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

  it(
    'install with plain npm into a fresh project and work under plain node',
    () => {
      const project = path.join(work, 'project')
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
      expect(replication.trim().split('\n')).toEqual(['homedb --help ok', '@homedb/replication round trip ok'])
    },
    STEP_TIMEOUT_MS + 60_000,
  )
})
