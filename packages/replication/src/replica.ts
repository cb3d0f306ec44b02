// openReplica: a read-only db of the writer's schema, kept current from the user's home: followDb over a network
// CommitSource (the latest snapshot, then a long-poll tail). It reloads with the reset event when the home says
// its history is not the replica's any more, confirms its position to the home (its replication slot), and
// closes its network source when the db closes.
import { type Db, followDb, type Schema, type TableDefs } from '@homedb/tables'
import type { ClientOptions } from './client-options.js'
import { ReplicationConfigError, ReplicationError } from './errors.js'
import { clientParts } from './internal/client-parts.js'
import { HomeCommitSource } from './internal/home-commit-source.js'
import { checkUserName } from './internal/user-names.js'
import type { ReplicaStatus } from './replica-status.js'
import type { RetryPolicy } from './retry-policy.js'
import { isTokenSource } from './token-source.js'

/** Options of {@link openReplica}. */
export interface ReplicaOptions extends ClientOptions {
  /** The home's URL (or give `directory`). `moved` answers are followed from the same position. */
  readonly home?: string
  /** Longest a tail request waits at the head, ms. Default 20 000 (the home caps it at its `maxWaitMs`). */
  readonly waitMs?: number
  /** How often the replica confirms its position to the home (its slot), ms. Default 1 000. */
  readonly confirmIntervalMs?: number
  /** Largest snapshot accepted, bytes. Default 1 GiB. */
  readonly maxSnapshotBytes?: number
  /** Deep-freeze values as they are loaded (default true), as in followDb. */
  readonly freeze?: boolean
  /** Receives the error that stopped the replica (a refused token, a loop, a schema that does not fit). */
  readonly onError?: (error: unknown) => void
  /** Backoff and loop detection (defaults in PROTOCOL.md). */
  readonly retry?: Partial<RetryPolicy>
}

const sources = new WeakMap<object, HomeCommitSource>()

/**
 * Opens a read-only replica of `user`'s db from its home: the same schema, the same commit events (and so the
 * same @homedb/reactive streams), mutations refused with `TABLES_READ_ONLY`. `replica.waitFor(seq)` gives
 * read-your-writes; `replica.close()` also ends its requests to the home and drops its slot.
 *
 * @example
 * ```ts
 * const replica = await openReplica(Core, { directory: directory.url, user: 'alice', token }) // or { home: url, … }
 * await replica.waitFor(writerSeq, { timeoutMs: 5000 })
 * console.log(replica.files.get('a')) // -> { size: 1 }
 * await replica.close()
 * ```
 */
export async function openReplica<const D extends TableDefs>(
  schema: Schema<D>,
  options: ReplicaOptions,
): Promise<Db<D>> {
  if (typeof options !== 'object' || options === null) throw config('openReplica() takes options { home, user, token }')
  checkUserName(options.user)
  if (!isTokenSource(options.token)) throw config('token must be a non-empty string or a function')
  // A tail waits up to waitMs for new commits: the default transport waits that long and more for an answer.
  const parts = clientParts(options, (options.waitMs ?? 20_000) + 30_000)
  const source = new HomeCommitSource({
    client: parts.client,
    clock: parts.clock,
    random: parts.random,
    backoff: parts.backoff,
    loops: parts.loops,
    waitMs: options.waitMs ?? 20_000,
    confirmIntervalMs: options.confirmIntervalMs ?? 1_000,
    maxSnapshotBytes: options.maxSnapshotBytes ?? 1024 * 1024 * 1024,
  })
  const closeSource = async () => {
    await source.close()
    await parts.close()
  }
  let db: Db<D> | undefined
  // The home may release what the replica was loading while it loads (a compaction): start over, a few times.
  for (let attempt = 0; db === undefined; attempt++) {
    try {
      db = await followDb(schema, source, {
        ...(options.freeze === undefined ? {} : { freeze: options.freeze }),
        onError: (error) => {
          // followDb wraps what the source threw; hand on the replication error itself (REPLICATION_AUTH, …).
          const cause = (error as { cause?: unknown }).cause
          const surfaced = cause instanceof ReplicationError ? cause : error
          source.fail(surfaced)
          options.onError?.(surfaced)
        },
      })
    } catch (error) {
      const code = (error as { code?: string; context?: { logCode?: string } }).context?.logCode
      if (code !== 'LOG_NEED_SNAPSHOT' || attempt >= 5) {
        await closeSource()
        const cause = (error as { cause?: unknown }).cause
        throw cause instanceof ReplicationError ? cause : error
      }
    }
  }
  db.onClose(() => void closeSource())
  sources.set(db, source)
  return db
}

/**
 * The replica's state (`bootstrapping`, `catching-up`, `live`, `reloading`, `backoff`, `failed`, `closed`), the
 * seq it applied last, the home's head as last seen, and the last error.
 */
export function replicaStatus(replica: object): ReplicaStatus {
  const source = sources.get(replica)
  if (source === undefined) throw config('replicaStatus() takes a db made by openReplica')
  return source.status()
}

function config(message: string): ReplicationConfigError {
  return new ReplicationConfigError('REPLICATION_CONFIG', message)
}
