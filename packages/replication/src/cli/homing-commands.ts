// `homedb directory` (the embedded directory in the foreground) and `homedb move` (move a user live, with a
// progress bar on a TTY and plain lines otherwise), and how the CLI spells a directory: an http(s) URL, or
// `etcd://host:port[,host:port…][/prefix]` for an etcd cluster.
import type { DirectoryOption } from '../directory.js'
import { startDirectory } from '../directory-server.js'
import { moveUser } from '../move-user.js'
import { withActionLog } from '../ui/action-log.js'
import { progress } from './progress.js'
import { untilSignal } from './until-signal.js'

/** Parses the CLI's `--directory` value. */
export function directoryOption(text: string): DirectoryOption {
  const etcd = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(text)
  if (etcd !== null) {
    const hosts = etcd[1]!.split(',').filter((h) => h !== '')
    return { etcd: { hosts, ...(etcd[2] === undefined || etcd[2] === '/' ? {} : { prefix: etcd[2].slice(1) }) } }
  }
  if (!/^https?:\/\//.test(text)) throw new Error(`--directory must be an http(s) URL or etcd://host:port,…: ${text}`)
  return text
}

function adminTokenOf(given: string | undefined): string {
  const token = given ?? process.env.HOMEDB_ADMIN_TOKEN
  if (token === undefined || token === '')
    throw new Error('the admin token is needed: --admin-token or HOMEDB_ADMIN_TOKEN')
  return token
}

/** Options of `homedb directory`, as commander parsed them. */
export interface DirectoryCommandOptions {
  readonly data: string
  readonly port: string
  readonly host: string
  readonly adminToken?: string
  readonly lookupToken?: string
  readonly log?: boolean
}

/** Runs the embedded directory until SIGTERM/SIGINT. */
export async function directory(options: DirectoryCommandOptions): Promise<void> {
  const adminToken = options.adminToken ?? process.env.HOMEDB_ADMIN_TOKEN
  const server = await startDirectory({
    dataDir: options.data,
    port: Number(options.port),
    host: options.host,
    ...(adminToken === undefined || adminToken === '' ? {} : { adminToken }),
    ...(options.lookupToken === undefined ? {} : { lookupToken: options.lookupToken }),
    logger: options.log ?? false,
    // The operator page's logins are logged whether or not requests are.
    ui: withActionLog(undefined, true),
  })
  const users = (await server.local.list()).length
  console.log(`homedb directory listening on ${server.url}`)
  console.log(`  data dir: ${options.data}`)
  console.log(`  users:    ${users}`)
  console.log(`  lookups:  ${options.lookupToken === undefined ? 'open (no token)' : 'need the lookup token'}`)
  const page = adminToken === undefined || adminToken === '' ? ' (off until an admin token is set)' : ''
  console.log(`  operator page: ${server.url}/ui${page}`)
  console.log('  stop with Ctrl-C or SIGTERM')
  await untilSignal(() => server.close(), 'stopping…')
}

/** Options of `homedb move`. */
export interface MoveCommandOptions {
  readonly to: string
  readonly directory: string
  readonly adminToken?: string
  readonly leaseMs?: string
  readonly json?: boolean
}

/** Moves a user live; prints the new epoch, the freeze time and the bytes copied. */
export async function move(user: string, options: MoveCommandOptions): Promise<void> {
  const bar = progress(`move ${user}`)
  let phase = ''
  const result = await moveUser({
    directory: directoryOption(options.directory),
    user,
    to: options.to,
    adminToken: adminTokenOf(options.adminToken),
    ...(options.leaseMs === undefined ? {} : { leaseMs: Number(options.leaseMs) }),
    onProgress(p) {
      if (p.phase !== phase && p.phase !== 'copying') console.error(`${p.phase}…`)
      phase = p.phase
      if (p.phase === 'copying' && p.head !== undefined && p.sourceHead != null) {
        bar.update(p.head?.seq ?? 0, Math.max(p.sourceHead.seq, 1), `${p.copiedBytes} bytes`)
      }
    },
  }).finally(() => bar.stop())
  if (options.json) return void console.log(JSON.stringify(result))
  console.log(`moved ${user} from ${result.from} to ${result.to}`)
  console.log(`  homeEpoch ${result.epoch}, writes paused ${result.freezeMs} ms, ${result.copiedBytes} bytes copied`)
}
