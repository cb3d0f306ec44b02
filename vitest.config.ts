// One vitest config for the monorepo: a project per package plus the cross-package `tests`.
// The `@homedb/source` condition makes workspace imports resolve to TypeScript sources, so no build is needed.
import { configDefaults, defineConfig } from 'vitest/config'

const packages = ['testkit', 'log', 'tables', 'reactive', 'replication']
const conditions = ['@homedb/source', 'node', 'import', 'default']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@homedb/source'] } },
  test: {
    exclude: [...configDefaults.exclude],
    typecheck: { enabled: true, include: ['**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          root: `packages/${name}`,
          include: ['test/**/*.test.ts'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
        },
      })),
      {
        extends: true as const,
        test: {
          name: 'tests',
          root: 'tests',
          include: ['**/*.test.ts'],
          exclude: [...configDefaults.exclude],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})
