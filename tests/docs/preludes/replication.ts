// The names @homedb/replication's README and `@example`s use without defining them: a small deployment on loopback,
// made only as far as a program needs it. `directory` is an embedded directory at ./data/directory; `server` a home
// at ./data/home joined to it, where `alice` (`user`) lives with the token `token` (`home` is its URL); `b` a second
// home of the same deployment, for moves. `db` is alice's writer at ./data/alice (empty), `shipper` ships it home,
// and `writerSeq` is a commit of it ('a' in `files`) that her home holds. `log` and `request` stand for a node that
// answers another one's position. `preview` and `hostRoutes` are internals whose doc comments carry an example.
// Everything is closed after the program.

import { writeFile } from 'node:fs/promises'
import { type Log, openLog } from '@homedb/log'
import {
  type DirectoryServer,
  type HomeServer,
  HomeService,
  type Shipper,
  ship,
  startDirectory,
  startHomeServer,
} from '@homedb/replication'
import { type Db, lookupTable, openDb, schema } from '@homedb/tables'
import { hostRoutes } from '../../../packages/replication/src/internal/route-host.js'
import { preview } from '../../../packages/replication/src/ui/value-preview.js'
import type { DocContext, Fixtures } from '../fixtures.js'

/** The schema the README's first example declares. */
const Core = schema({ files: lookupTable<string, { size: number }>() })
type CoreDb = Db<typeof Core>

const ADMIN_TOKEN = 'deployment-admin-token'
const ALICE_TOKEN = 'alice-token-0123456789'

/** Prepares a program's directory: nothing to prepare (each fixture makes what it needs). */
export async function setup(): Promise<void> {}

/** `thing`, closed after the program. */
async function closed<T extends { close(): Promise<unknown> }>(ctx: DocContext, thing: Promise<T> | T): Promise<T> {
  const open = await thing
  ctx.onClose(() => open.close())
  return open
}

/** A home of the deployment at ./data/<name>, joined to its directory. */
async function startHome(ctx: DocContext, name: string): Promise<HomeServer> {
  const directory = await ctx.fixture<DirectoryServer>('directory')
  const dataDir = ctx.path(`data/${name}`)
  return closed(
    ctx,
    startHomeServer({ dataDir, host: '127.0.0.1', port: 0, adminToken: ADMIN_TOKEN, directory: directory.url }),
  )
}

export const fixtures = {
  Core: () => Core,
  /** The deployment's admin token (the directory's and every home's). */
  adminToken: () => ADMIN_TOKEN,
  /** The embedded directory at ./data/directory. */
  directory: (ctx: DocContext) =>
    closed(
      ctx,
      startDirectory({ dataDir: ctx.path('data/directory'), host: '127.0.0.1', port: 0, adminToken: ADMIN_TOKEN }),
    ),
  /** The directory's URL (what homes, clients and movers take as `directory`). */
  directoryUrl: async (ctx: DocContext) => (await ctx.fixture<DirectoryServer>('directory')).url,
  /** alice's home at ./data/home, joined to `directory`. */
  server: async (ctx: DocContext) => {
    const server = await startHome(ctx, 'home')
    await server.addUser('alice', { token: ALICE_TOKEN })
    return server
  },
  /** alice's home's URL. */
  home: async (ctx: DocContext) => (await ctx.fixture<HomeServer>('server')).url,
  /** The user the examples write as. */
  user: () => 'alice',
  /** alice's token on her home. */
  token: async (ctx: DocContext) => {
    await ctx.fixture('server')
    return ALICE_TOKEN
  },
  /** What an app keeps of its users' tokens. */
  tokens: async (ctx: DocContext): Promise<Record<string, string>> => ({ alice: await ctx.fixture<string>('token') }),
  /** A file holding alice's token (a mounted secret, such as /run/secrets/alice-token). */
  tokenFile: async (ctx: DocContext) => {
    const file = ctx.path('alice-token')
    await writeFile(file, `${await ctx.fixture<string>('token')}\n`)
    return file
  },
  /** A second home of the deployment at ./data/home-b (alice lives at `server`). */
  b: async (ctx: DocContext) => {
    await ctx.fixture('server')
    return startHome(ctx, 'home-b')
  },
  /** alice's writer at ./data/alice, empty. */
  db: (ctx: DocContext) => closed(ctx, openDb(Core, { dir: ctx.path('data/alice') })),
  /** Ships `db` to alice's home. */
  shipper: async (ctx: DocContext) => {
    const db = await ctx.fixture<CoreDb>('db')
    return closed(ctx, ship(db, { home: await ctx.fixture<string>('home'), user: 'alice', token: ALICE_TOKEN }))
  },
  /** The seq of a commit of `db` (`files` 'a' → { size: 1 }) that alice's home holds (fsynced there). */
  writerSeq: async (ctx: DocContext) => {
    const db = await ctx.fixture<CoreDb>('db')
    const shipper = await ctx.fixture<Shipper>('shipper')
    db.files.insert('a', { size: 1 })
    await shipper.flushed()
    return db.seq
  },
  /** A @homedb/log log at ./data/log with three commits. */
  log: async (ctx: DocContext) => {
    const log = await closed(ctx, openLog(ctx.path('data/log')))
    for (const text of ['one', 'two', 'three']) log.append(new TextEncoder().encode(text))
    await log.sync()
    return log
  },
  /** A request from a node that holds the first commit of `log`: its position, as untrusted JSON. */
  request: async (ctx: DocContext) => {
    const log = await ctx.fixture<Log>('log')
    for await (const first of log.readEncoded({ from: 0 })) {
      return {
        position: JSON.parse(JSON.stringify({ logId: log.logId, seq: first.seq, chain: first.chain })) as unknown,
      }
    }
    throw new Error('the log has no commit')
  },
  /** Sends a frame to the other node (here: nowhere). */
  send:
    () =>
    (_frame: Uint8Array): void => {},
  /** A home's protocol core at ./data/service (no HTTP). */
  service: (ctx: DocContext) =>
    closed(ctx, HomeService.open({ dataDir: ctx.path('data/service'), adminToken: ADMIN_TOKEN })),
  /** Internal (src/ui/value-preview.ts): a value as the operator page shows it. */
  preview: () => preview,
  /** Internal (src/internal/route-host.ts): hosts a route table over HTTP. */
  hostRoutes: () => hostRoutes,
} satisfies Fixtures
