// `homedb serve`: starts a home server in the foreground with clear startup output, and shuts down gracefully on
// SIGTERM/SIGINT (in-flight appends are acknowledged first, then every log is closed).
import { startHomeServer } from '../home-server.js'
import { directoryOption } from './homing-commands.js'

/** Options of the serve command, as commander parsed them. */
export interface ServeOptions {
  readonly data: string
  readonly port: string
  readonly host: string
  readonly adminToken?: string
  readonly maxOpenLogs?: string
  readonly directory?: string
  readonly publicUrl?: string
  readonly log?: boolean
}

export async function serve(options: ServeOptions): Promise<void> {
  const adminToken = options.adminToken ?? process.env.HOMEDB_ADMIN_TOKEN
  const server = await startHomeServer({
    dataDir: options.data,
    port: Number(options.port),
    host: options.host,
    ...(adminToken === undefined || adminToken === '' ? {} : { adminToken }),
    ...(options.maxOpenLogs === undefined ? {} : { maxOpenLogs: Number(options.maxOpenLogs) }),
    ...(options.directory === undefined ? {} : { directory: directoryOption(options.directory) }),
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
    logger: options.log ?? false,
  })
  const users = server.service.users().length
  console.log(`homedb home server listening on ${server.url}`)
  console.log(`  data dir: ${options.data}`)
  console.log(`  users:    ${users}`)
  if (options.directory !== undefined) console.log(`  directory: ${options.directory}`)
  console.log(
    `  admin:    ${adminToken ? 'enabled (admin token set)' : 'disabled (no --admin-token / HOMEDB_ADMIN_TOKEN)'}`,
  )
  console.log('  stop with Ctrl-C or SIGTERM (in-flight appends finish first)')
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      console.log(`${signal}: finishing in-flight requests…`)
      server.close().then(
        () => {
          console.log('stopped')
          resolve()
        },
        (error: unknown) => {
          console.error(`error while stopping: ${(error as Error).message}`)
          process.exitCode = 1
          resolve()
        },
      )
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
