// `homedb serve`: starts a home server in the foreground with clear startup output, and shuts down gracefully on
// SIGTERM/SIGINT (in-flight appends are acknowledged first, then every log is closed).
import { readFileSync } from 'node:fs'
import { type HomeServerOptions, startHomeServer } from '../home-server.js'
import { withActionLog } from '../ui/action-log.js'
import { directoryOption } from './homing-commands.js'
import { untilSignal } from './until-signal.js'

/** Options of the serve command, as commander parsed them. */
export interface ServeOptions {
  readonly data: string
  readonly port: string
  readonly host: string
  readonly adminToken?: string
  readonly tokenKey?: string
  readonly maxOpenLogs?: string
  readonly directory?: string
  readonly publicUrl?: string
  readonly maxUsers?: string
  readonly tlsCert?: string
  readonly tlsKey?: string
  readonly trustProxy?: string
  readonly log?: boolean
}

function given(value: string | undefined): value is string {
  return value !== undefined && value !== ''
}

/** The server options the flags (and HOMEDB_ADMIN_TOKEN, HOMEDB_TOKEN_KEY) ask for. */
function serverOptions(options: ServeOptions): HomeServerOptions {
  const adminToken = options.adminToken ?? process.env.HOMEDB_ADMIN_TOKEN
  const tokenKey = options.tokenKey ?? process.env.HOMEDB_TOKEN_KEY
  if (given(options.tlsCert) !== given(options.tlsKey)) throw new Error('--tls-cert and --tls-key go together')
  const trust = options.trustProxy
  return {
    dataDir: options.data,
    port: Number(options.port),
    host: options.host,
    ...(given(adminToken) ? { adminToken } : {}),
    ...(given(tokenKey) ? { tokenKey } : {}),
    ...(options.maxOpenLogs === undefined ? {} : { maxOpenLogs: Number(options.maxOpenLogs) }),
    ...(options.directory === undefined ? {} : { directory: directoryOption(options.directory) }),
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
    ...(options.maxUsers === undefined ? {} : { maxUsers: Number(options.maxUsers) }),
    ...(given(options.tlsCert) && given(options.tlsKey)
      ? { tls: { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) } }
      : {}),
    ...(trust === undefined ? {} : { trustProxy: trust === 'true' ? true : trust }),
    logger: options.log ?? false,
    // The operator page's actions (logins, moves, token rotations) are logged whether or not requests are.
    ui: withActionLog(undefined, true),
  }
}

export async function serve(options: ServeOptions): Promise<void> {
  const settings = serverOptions(options)
  const adminToken = settings.adminToken
  const server = await startHomeServer(settings)
  const users = server.service.users().length
  console.log(`homedb home server listening on ${server.url}`)
  console.log(`  data dir: ${options.data}`)
  console.log(`  users:    ${users}`)
  if (options.directory !== undefined) console.log(`  directory: ${options.directory}`)
  console.log(`  operator page: ${server.url}/ui${adminToken ? '' : ' (off until an admin token is set)'}`)
  console.log(
    `  admin:    ${adminToken ? 'enabled (admin token set)' : 'disabled (no --admin-token / HOMEDB_ADMIN_TOKEN)'}`,
  )
  console.log(
    `  tokens:   ${settings.tokenKey === undefined ? 'hashed with this home\u2019s own key' : 'hashed with the deployment\u2019s token key'}`,
  )
  console.log('  stop with Ctrl-C or SIGTERM (in-flight appends finish first)')
  await untilSignal(() => server.close(), 'finishing in-flight requests…')
}
