// The names @homedb/reactive's README and `@example`s use without defining them: the README's schema and an
// in-memory db of it, and what an application does with what the streams emit.
import { lookupTable, openDb, schema } from '@homedb/tables'
import type { DocContext, Fixtures } from '../fixtures.js'

/** The README's schema. */
const Core = schema({ metadata: lookupTable<string, { name: string; size: number }>() })

/** Prepares a program's directory: nothing to prepare (the db lives in memory). */
export async function setup(): Promise<void> {}

export const fixtures = {
  Core: () => Core,
  /** An in-memory db of `Core`. */
  db: async (ctx: DocContext) => {
    const db = await openDb(Core)
    ctx.onClose(() => db.close())
    return db
  },
  /** Tells other devices about a durable commit (here: nothing). */
  notifyOtherDevices:
    () =>
    (_seq: number): void => {},
  /** Draws the table (here: nothing). */
  render:
    () =>
    (_seq: number, _values: readonly unknown[]): void => {},
} satisfies Fixtures
