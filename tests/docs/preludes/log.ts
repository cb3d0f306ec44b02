// The names @homedb/log's README and `@example`s use without defining them. `./data/log` holds an (empty) log
// before each program runs, as the examples that open or verify it assume; `log` is that log, open for writing.
import { type Log, openLog } from '@homedb/log'
import type { DocContext, Fixtures } from '../fixtures.js'

/** Creates the empty log at ./data/log. */
export async function setup(ctx: DocContext): Promise<void> {
  await (await openLog(ctx.path('data/log'))).close()
}

async function opened(ctx: DocContext, log: Promise<Log>): Promise<Log> {
  const open = await log
  ctx.onClose(() => open.close())
  return open
}

export const fixtures = {
  /** The directory of the log at ./data/log. */
  dir: (ctx: DocContext) => ctx.path('data/log'),
  /** The log at ./data/log, open for writing. */
  log: (ctx: DocContext) => opened(ctx, openLog(ctx.path('data/log'))),
  /** Bytes standing for an application's state. */
  stateBytes: () => new TextEncoder().encode('the state at the head'),
  /** Another log with ten commits, to copy from. */
  source: async (ctx: DocContext) => {
    const source = await opened(ctx, openLog(ctx.path('data/source')))
    for (let i = 1; i <= 10; i++) source.append(new TextEncoder().encode(`commit ${i}`))
    await source.sync()
    return source
  },
  /** Where copied frames are collected. */
  frames: () => [] as Uint8Array[],
} satisfies Fixtures
