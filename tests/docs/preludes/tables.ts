// The names @homedb/tables' README and `@example`s use without defining them. `Core` is the README's quick-start
// schema (with its value types) and `db` a db of it at ./data/core, as the quick start opens it; ./data/core holds an
// (empty) db before each program runs, as the examples that open, verify or follow it assume. `replica` is a
// read-only db following `db`. The rest stands for what an application does around the examples.
import type { Db } from '@homedb/tables'
import { list, lookupList, lookupMap, lookupSet, lookupTable, openDb, schema, single } from '@homedb/tables'
import { z } from 'zod'
import type { DocContext, Fixtures } from '../fixtures.js'

export interface Account {
  name: string
  plan: 'free' | 'pro'
}
export interface FileMeta {
  name: string
  size: number
  tags: string[]
}
export interface DocEvent {
  at: number
  what: string
}
export interface Edit {
  at: number
  by: string
}
export interface Share {
  mode: 'read' | 'write'
}

/** The quick start's schema. */
const Core = schema({
  account: single<Account>(),
  metadata: lookupTable<string, FileMeta>(),
  events: list<DocEvent>(),
  history: lookupList<string, Edit>(),
  children: lookupSet<string, string>(),
  shares: lookupMap<string, string, Share>(),
})
type CoreDb = Db<typeof Core>

/** Creates the empty db at ./data/core. */
export async function setup(ctx: DocContext): Promise<void> {
  await (await openDb(Core, { dir: ctx.path('data/core') })).close()
}

async function opened(ctx: DocContext, db: Promise<CoreDb>): Promise<CoreDb> {
  const open = await db
  ctx.onClose(() => open.close())
  return open
}

export const fixtures = {
  Core: () => Core,
  /** The directory of the db at ./data/core. */
  dir: (ctx: DocContext) => ctx.path('data/core'),
  /** The db at ./data/core, open for writing. */
  db: (ctx: DocContext) => opened(ctx, openDb(Core, { dir: ctx.path('data/core') })),
  /** A read-only db following `db` (another process, in real life). */
  replica: async (ctx: DocContext) => {
    await ctx.fixture('db')
    return opened(ctx, openDb(Core, { dir: ctx.path('data/core'), readOnly: true, followIntervalMs: 5 }))
  },
  /** A Standard Schema of file values (zod). */
  FileSchema: () => z.object({ name: z.string(), size: z.number().int().nonnegative(), tags: z.array(z.string()) }),
  /** Creates a folder entry in `db` and returns its id (a transaction of its own, or part of the caller's). */
  createFolder: async (ctx: DocContext) => {
    const db = await ctx.fixture<CoreDb>('db')
    return (name: string): string =>
      db.transactionSync(() => {
        const id = `folder-${name}`
        db.metadata.insert(id, { name, size: 0, tags: ['folder'] })
        return id
      })
  },
  /** Creates a file entry in folder `folder`. */
  createFile: async (ctx: DocContext) => {
    const db = await ctx.fixture<CoreDb>('db')
    return (folder: string, name: string): void => {
      db.metadata.insert(name, { name, size: 0, tags: [] })
      db.children.insert(folder, name)
    }
  },
  /** A commit made by the writer, whose seq it reports once durable (what a client hears back). */
  writerCommit: async (ctx: DocContext) => {
    const db = await ctx.fixture<CoreDb>('db')
    return async (): Promise<number> => {
      db.events.push({ at: Date.now(), what: 'a commit' })
      await db.sync()
      return db.seq
    }
  },
  notifyOtherDevices:
    () =>
    (_seq: number): void => {},
  rerenderEverything: () => (): void => {},
  applyChanges:
    () =>
    (_changes: unknown): void => {},
  /** Ships one encoded frame somewhere (here: nowhere). */
  send:
    () =>
    (_seq: number, _frame: Uint8Array): void => {},
  /** A home server's URL and a user's token (examples that need a server are type-checked only). */
  home: () => 'https://home.example',
  token: () => 'token-of-alice',
} satisfies Fixtures
