// The directory: which home server holds each user, under which `homeEpoch` (the fencing token of moves), and
// whether a move is under way. It changes only by compare-and-set on the epoch. Two backends implement it: the
// embedded directory server (startDirectory, a homedb db served over HTTP) and etcd (transactions on the key's
// revision, watches). Everything that takes a `directory` option (homes, ship, openReplica, homeSource,
// openUserDbs, moveUser) accepts a URL, `{ etcd: { hosts } }` or a Directory object. This file holds the types the
// backends implement; openDirectory (open-directory.ts) picks one.

import type { Clock } from './clock.js'
import type { Random } from './random.js'
import type { Transport } from './transport.js'

/** Where a user lives, as the directory says. */
export interface DirectoryEntry {
  readonly user: string
  /** The URL of the home server that holds the user (`http(s)://host:port`). */
  readonly home: string
  /** Fencing token: 1 when registered, +1 at every move (or when a frozen source takes its user back). */
  readonly homeEpoch: number
  /** `moving` while a mover works on the user (informational: the epoch alone decides). */
  readonly state: 'active' | 'moving'
  /** The move under way (`state: 'moving'`). */
  readonly move?: DirectoryMove
}

/** A move in flight, as recorded in the directory. */
export interface DirectoryMove {
  /** Random id of the move (the source's freeze and the target's reservation carry it too). */
  readonly id: string
  /** The target home's URL. */
  readonly to: string
  /** When the mover started (ms since the epoch, the mover's clock). */
  readonly startedAt: number
}

/** The new value of an entry (its user is the key). */
export type DirectoryUpdate = Omit<DirectoryEntry, 'user'>

/** The outcome of a compare-and-set: the entry written, or what the directory holds instead (`undefined`: nothing). */
export type DirectoryChange =
  | { readonly ok: true; readonly entry: DirectoryEntry }
  | { readonly ok: false; readonly current: DirectoryEntry | undefined }

/** Options of {@link Directory.watch}. */
export interface DirectoryWatchOptions {
  /** Receives errors of the watch (it keeps retrying with backoff). */
  readonly onError?: (error: unknown) => void
}

/**
 * The user → home map. Every change is a compare-and-set, so concurrent movers and homes never overwrite each other:
 * `register` creates an entry only where none exists (at `homeEpoch` 1), `compareAndSet` replaces one only if it is
 * still at the epoch the caller read.
 *
 * @example
 * ```ts
 * const directory = openDirectory(directoryUrl, { adminToken })
 * await directory.register('carol', 'http://127.0.0.1:7101')
 * const entry = (await directory.lookup('carol'))!
 * console.log(entry) // -> { user: 'carol', home: 'http://127.0.0.1:7101', homeEpoch: 1, state: 'active' }
 * // Only the writer that read epoch 1 wins; a second one gets { ok: false, current }.
 * const change = await directory.compareAndSet('carol', 1, { ...entry, home: 'http://127.0.0.1:7102', homeEpoch: 2 })
 * console.log(change.ok) // -> true
 * await directory.close()
 * ```
 */
export interface Directory {
  /** The user's entry, or `undefined` if the directory does not know the user. */
  lookup(user: string): Promise<DirectoryEntry | undefined>
  /** Creates the user's entry at `home`, `homeEpoch` 1, `active` — only if the user has none. */
  register(user: string, home: string): Promise<DirectoryChange>
  /**
   * Replaces the user's entry with `next` if it is still at `expectedEpoch`. `next.homeEpoch` must be
   * `expectedEpoch` (a state change) or `expectedEpoch + 1` (a switch of home, or a source taking its user back).
   */
  compareAndSet(user: string, expectedEpoch: number, next: DirectoryUpdate): Promise<DirectoryChange>
  /** Every entry. */
  list(): Promise<DirectoryEntry[]>
  /** Calls `listener` with every entry written after the call (etcd: a watch; embedded: a long-poll); returns stop. */
  watch(listener: (entry: DirectoryEntry) => void, options?: DirectoryWatchOptions): () => void
  /**
   * The deployment's token key (base64url of 32 random bytes): the HMAC key every home of the deployment hashes
   * users' tokens with, so a moved user's token verifies on its new home. Created once (compare-and-set if
   * absent), then always the same.
   */
  tokenKey(): Promise<string>
  /** Releases connections and stops watches. */
  close(): Promise<void>
}

/** The etcd backend's options. */
export interface EtcdDirectoryOptions {
  /** Members as `host:port` (or URLs), e.g. `['127.0.0.1:2379']`. */
  readonly hosts: readonly string[]
  /** Key prefix of the deployment (default `homedb/`). */
  readonly prefix?: string
  /** Longest one etcd call may take, ms (default 2 000; a call to a member that died fails over sooner). */
  readonly timeoutMs?: number
}

/** What a `directory` option accepts: the embedded directory's URL, an etcd cluster, or a Directory object. */
export type DirectoryOption =
  | string
  | { readonly url: string; readonly lookupToken?: string }
  | { readonly etcd: EtcdDirectoryOptions }
  | Directory

/** Credentials and plumbing for {@link openDirectory}. */
export interface OpenDirectoryOptions {
  /** The admin token (embedded directory): needed to register, compare-and-set, list, watch and read the key. */
  readonly adminToken?: string
  /** The embedded directory's lookup token, if it requires one for lookups. */
  readonly lookupToken?: string
  /** How the embedded directory's client sends requests (default: keep-alive HTTP(S)). */
  readonly transport?: Transport
  /** Time for the client's watch backoff (default: the system clock). */
  readonly clock?: Clock
  /** Randomness for the client's backoff jitter (default: the OS's CSPRNG). */
  readonly random?: Random
}
