// How a home joins its deployment when it opens: the directory client (with the home's admin token), the
// deployment's token key (given, or read from the directory), and the homing link with its settings resolved.
import type { Directory, DirectoryOption, OpenDirectoryOptions } from '../directory.js'
import { ReplicationConfigError } from '../errors.js'
import type { HomeServiceOptions } from '../home-service-options.js'
import { httpTransport } from '../http-transport.js'
import { openDirectory, ownsDirectory } from '../open-directory.js'
import { decodeTokenKey } from './auth.js'
import type { HomeContext } from './home-context.js'
import { HomeHoming } from './home-homing.js'

/** The directory a home uses, and whether it owns (closes) the client. */
export interface HomeDirectory {
  readonly directory: Directory
  readonly owns: boolean
}

/**
 * Opens the home's directory client, if it has one: with the home's admin token, and with its transport, clock and
 * random when it was given them (a simulation drives the directory client like the rest of the home).
 */
export function homeDirectory(options: HomeServiceOptions): HomeDirectory | undefined {
  const option: DirectoryOption | undefined = options.directory
  if (option === undefined) return undefined
  const client: OpenDirectoryOptions = {
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
  }
  return { directory: openDirectory(option, client), owns: ownsDirectory(option) }
}

/** The token key the home hashes tokens with: `tokenKey`, else the directory's, else none (the home's own). */
export async function tokenKeyOf(
  options: HomeServiceOptions,
  link: HomeDirectory | undefined,
): Promise<Buffer | undefined> {
  if (options.tokenKey !== undefined) return decodeTokenKey(options.tokenKey)
  if (link === undefined) return undefined
  return decodeTokenKey(await link.directory.tokenKey())
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a positive integer`, { [name]: value })
  }
  return v
}

/** Checks the homing options (before anything is opened). */
export function checkHomingOptions(options: HomeServiceOptions): void {
  positive('maxLeaseMs', options.maxLeaseMs, 10_000)
  positive('movedRetentionMs', options.movedRetentionMs, 72 * 3600 * 1000)
  positive('reconcileIntervalMs', options.reconcileIntervalMs, 5_000)
  if (options.tokenKey !== undefined) decodeTokenKey(options.tokenKey)
  if (options.directory !== undefined && options.adminToken === undefined) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'a home with a directory needs the adminToken')
  }
}

/** The homing link of a home with a directory. */
export function createHoming(ctx: HomeContext, options: HomeServiceOptions, link: HomeDirectory): HomeHoming {
  return new HomeHoming(ctx, {
    directory: link.directory,
    ownsDirectory: link.owns,
    publicUrl: options.publicUrl,
    maxLeaseMs: positive('maxLeaseMs', options.maxLeaseMs, 10_000),
    movedRetentionMs: positive('movedRetentionMs', options.movedRetentionMs, 72 * 3600 * 1000),
    reconcileIntervalMs: positive('reconcileIntervalMs', options.reconcileIntervalMs, 5_000),
    reservationIdleMs: 10 * 60_000,
    transport: options.transport ?? httpTransport({ timeoutMs: 60_000 }),
    ownsTransport: options.transport === undefined,
  })
}
