// The deployment most homing tests start from: an embedded directory and N homes joined to it on loopback, each in
// a fresh temp dir, all closed after the test (afterEach), so a failing test leaves no server behind.
import {
  type DirectoryServer,
  type HomeServer,
  type HomeServerOptions,
  startDirectory,
  startHomeServer,
} from '@homedb/replication'
import { afterEach } from 'vitest'

/** A directory and its homes, in the order they were started. */
export interface LocalDeployment {
  readonly directory: DirectoryServer
  readonly homes: HomeServer[]
}

/** Options of home `i` besides its data dir, admin token and directory. */
export type HomeOptionsOf = (i: number) => Partial<HomeServerOptions>

/**
 * Returns `deploy(count, homeOptions?)`, which starts a directory and `count` homes with `adminToken`; what it
 * started is closed after each test of the calling file. `next` gives the data dirs.
 */
export function localDeployments(next: () => string, adminToken: string) {
  let started: LocalDeployment | undefined
  afterEach(async () => {
    const ending = started
    started = undefined
    if (ending === undefined) return
    await Promise.all(ending.homes.map((h) => h.close()))
    await ending.directory.close()
  })
  return async function deploy(count: number, homeOptions: HomeOptionsOf = () => ({})): Promise<LocalDeployment> {
    const directory = await startDirectory({ dataDir: next(), adminToken })
    started = { directory, homes: [] }
    for (let i = 0; i < count; i++) {
      const options = { dataDir: next(), adminToken, directory: directory.url, ...homeOptions(i) }
      started.homes.push(await startHomeServer(options))
    }
    return started
  }
}
