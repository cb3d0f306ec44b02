// The names @homedb/testkit's `@example`s use without defining them: a log to open, bytes to append, a seeded RNG,
// and the test body of a campaign (`killAt`). The examples see the kit's own names as if imported.
import { nodeFileLayer, openLog } from '@homedb/log'
import { seededRng } from '@homedb/testkit'
import type { DocContext, Fixtures } from '../fixtures.js'

/** Prepares a program's directory: nothing to prepare. */
export async function setup(): Promise<void> {}

export const fixtures = {
  /** A directory for a log. */
  dir: (ctx: DocContext) => ctx.path('data/log'),
  /** `openLog` of @homedb/log; what it opens is closed after the program. */
  openLog: (ctx: DocContext) =>
    (async (...args: Parameters<typeof openLog>) => {
      const log = await openLog(...args)
      ctx.onClose(() => log.close())
      return log
    }) as typeof openLog,
  nodeFileLayer: () => nodeFileLayer,
  /** A payload. */
  bytes: () => new TextEncoder().encode('a commit'),
  rng: () => seededRng(1),
  /** One round of a crash campaign (here: nothing). */
  killAt:
    () =>
    async (_at: number): Promise<void> => {},
} satisfies Fixtures
