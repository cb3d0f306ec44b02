// How the clients (ship, openReplica, homeSource) turn their `home` / `directory` options into a HomeResolver: a
// fixed home, or the directory (opened here and closed with the client unless the caller passed a Directory).

import { checkHomeUrl } from '../directory/entry-codec.js'
import type { Directory, DirectoryOption, OpenDirectoryOptions } from '../directory.js'
import { ReplicationConfigError } from '../errors.js'
import { openDirectory, ownsDirectory } from '../open-directory.js'
import { HomeResolver } from './home-resolver.js'

/** A client's resolver and what to close with the client. */
export interface ClientHomes {
  readonly resolver: HomeResolver
  readonly directory: Directory | undefined
  close(): Promise<void>
}

/** What a client resolves its home with: `home` or `directory`, and what it reaches a directory URL with. */
export interface ClientHomesOptions extends Pick<OpenDirectoryOptions, 'transport' | 'clock' | 'random'> {
  readonly home?: string
  readonly directory?: DirectoryOption
  readonly user: string
}

/**
 * Builds the resolver for `{ home?, directory?, user }`; exactly one of home and directory must be given. A
 * directory given as a URL is reached with the client's own transport, clock and random (when it has them). With
 * `transient`, a directory the resolver opens is opened for each lookup and closed after it (for clients that have
 * no close of their own, like homeSource).
 */
export function homeResolver(options: ClientHomesOptions, transient = false): ClientHomes {
  if ((options.home === undefined) === (options.directory === undefined)) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'give either home (a URL) or directory')
  }
  if (options.home !== undefined) {
    let home: string
    try {
      home = checkHomeUrl(options.home)
    } catch {
      throw new ReplicationConfigError('REPLICATION_CONFIG', 'home must be an http(s) URL')
    }
    return { resolver: new HomeResolver({ user: options.user, home }), directory: undefined, close: async () => {} }
  }
  const owned = ownsDirectory(options.directory!)
  const client: OpenDirectoryOptions = {
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
  }
  const directory =
    owned && transient ? lookupOnly(options.directory!, client) : openDirectory(options.directory!, client)
  return {
    resolver: new HomeResolver({ user: options.user, directory }),
    directory,
    close: async () => {
      if (owned) await directory.close()
    },
  }
}

/** A directory whose lookups each open a client, ask, and close it (nothing stays open between lookups). */
function lookupOnly(option: DirectoryOption, client: OpenDirectoryOptions): Directory {
  const refuse = () => Promise.reject(new ReplicationConfigError('REPLICATION_CONFIG', 'lookups only'))
  return {
    async lookup(user) {
      const directory = openDirectory(option, client)
      try {
        return await directory.lookup(user)
      } finally {
        await directory.close()
      }
    },
    register: refuse,
    compareAndSet: refuse,
    list: refuse,
    tokenKey: refuse,
    watch: () => () => undefined,
    close: async () => undefined,
  }
}
