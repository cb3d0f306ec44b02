// moveUser: moves a user from the home the directory names to another home, live (PROTOCOL.md, "Moving a user"):
// the target copies while the source serves; the source freezes briefly; the target reaches the source's exact
// head; (seq, chain) and a schema-less state hash are compared; one compare-and-set on the directory (homeEpoch + 1)
// decides; the target activates and the source answers `moved` from then on. Anything failing before the switch
// leaves the user where it was.
import { type Clock, systemClock } from './clock.js'
import { checkHomeUrl } from './directory/entry-codec.js'
import type { DirectoryOption } from './directory.js'
import { ReplicationConfigError } from './errors.js'
import { httpTransport } from './http-transport.js'
import { MoveAdminClient } from './internal/move-admin-client.js'
import { Mover } from './internal/mover.js'
import { checkUserName } from './internal/user-names.js'
import type { MoveProgress, MoveResult } from './move-report.js'
import { openDirectory, ownsDirectory } from './open-directory.js'
import { cryptoRandom, type Random } from './random.js'
import type { Transport } from './transport.js'

/** Options of {@link moveUser}. */
export interface MoveUserOptions {
  /** The deployment's directory (a URL, `{ etcd: { hosts } }` or a Directory). */
  readonly directory: DirectoryOption
  readonly user: string
  /** The target home's URL (as the directory will name it). */
  readonly to: string
  /** The deployment's admin token (homes and the embedded directory). */
  readonly adminToken: string
  /**
   * The source's freeze lease, ms (capped by the source's `maxLeaseMs`). If it ends before the switch, the source
   * asks the directory and takes its user back (homeEpoch + 1), and this move's switch fails. Default 10 000.
   */
  readonly leaseMs?: number
  /** How long the mover keeps trying the switch while the directory does not answer, ms. Default 30 000. */
  readonly switchTimeoutMs?: number
  /** The source freezes once the copy is at most this many commits behind. Default 64. */
  readonly freezeLagCommits?: number
  /** Longest the copy may take before the freeze, ms. Default 30 minutes. */
  readonly copyTimeoutMs?: number
  /** Receives each step and the copy's progress (the `homedb move` progress bar). */
  readonly onProgress?: (progress: MoveProgress) => void
  /** How the mover reaches the homes and a directory URL (default: keep-alive HTTP(S)). */
  readonly transport?: Transport
  /** Time for the mover's waits and deadlines (default: the system clock, kept alive by a timer while it runs). */
  readonly clock?: Clock
  /** Randomness for the move's id (default: the OS's CSPRNG). */
  readonly random?: Random
}

/**
 * Moves `user` to the home `to`, live. Resolves once the directory names `to` (the move happened); rejects with a
 * `MoveError` (`REPLICATION_MOVE`) whose `context.outcome` is `'aborted'` (nothing changed) or, if the directory
 * could not be read after the switch, `'unknown'` (the source's lease settles it: one home either way).
 *
 * @example
 * ```ts
 * const moved = await moveUser({ directory: directory.url, user: 'alice', to: b.url, adminToken })
 * console.log(moved.epoch) // -> 2
 * console.log(moved.freezeMs, moved.copiedBytes) // how long alice's writers waited, what was copied
 * ```
 */
export async function moveUser(options: MoveUserOptions): Promise<MoveResult> {
  checkUserName(options?.user)
  const to = checkHomeUrl(options.to)
  if (typeof options.adminToken !== 'string' || options.adminToken === '') {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'moveUser needs the adminToken')
  }
  const directory = openDirectory(options.directory, {
    adminToken: options.adminToken,
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
  })
  const transport = options.transport ?? httpTransport({ timeoutMs: 120_000 })
  const random = options.random ?? cryptoRandom
  // The system clock's waits do not keep the process alive (clients stop with it); a move in progress must. A
  // caller's own clock (a simulation's virtual time) runs the waits itself: no real timer is made then.
  const alive = options.clock === undefined ? setInterval(() => undefined, 60_000) : undefined
  try {
    const mover = new Mover({
      directory,
      admin: new MoveAdminClient(transport, options.adminToken, options.user),
      user: options.user,
      to,
      moveId: Buffer.from(random.bytes(12)).toString('base64url'),
      leaseMs: options.leaseMs ?? 10_000,
      switchTimeoutMs: options.switchTimeoutMs ?? 30_000,
      freezeLagCommits: options.freezeLagCommits ?? 64,
      copyTimeoutMs: options.copyTimeoutMs ?? 30 * 60_000,
      clock: options.clock ?? systemClock,
      onProgress: options.onProgress ?? (() => undefined),
    })
    return await mover.run()
  } finally {
    if (alive !== undefined) clearInterval(alive)
    if (options.transport === undefined) transport.close?.()
    if (ownsDirectory(options.directory)) await directory.close()
  }
}
