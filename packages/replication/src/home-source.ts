// homeSource: @homedb/tables' BootstrapSource over HTTP, so `openDb(schema, { dir, bootstrap: homeSource(…) })`
// and `homedb restore` rebuild a writer's log from its home: the latest snapshot, then every commit after it
// (sealed pages where possible, then the tail), each frame verified before the log appends it. A busy home (429,
// 503) is asked again after the wait it names.
import type { BootstrapInfo, BootstrapSource, RestoreProgress } from '@homedb/tables'
import type { ClientOptions } from './client-options.js'
import { systemClock } from './clock.js'
import { ReplicationConfigError, ReplicationRemoteError } from './errors.js'
import { httpTransport } from './http-transport.js'
import { Backoff, DEFAULT_RETRY, whileBusy } from './internal/backoff.js'
import { decodeChunks } from './internal/chunk-stream.js'
import { homeResolver } from './internal/client-homes.js'
import { splitFrames, verifyFrames } from './internal/frames.js'
import { type ControlAnswer, HomeClient } from './internal/home-client.js'
import { checkUserName } from './internal/user-names.js'
import type { LogPosition } from './position.js'
import { cryptoRandom } from './random.js'
import { isTokenSource } from './token-source.js'

/** Options of {@link homeSource}. */
export interface HomeSourceOptions extends ClientOptions {
  /** The home's URL (or give `directory`); `moved` answers are followed. */
  readonly home?: string
  /** Receives each step of the restore (moved aside, snapshot, frames, done). */
  readonly onProgress?: (event: RestoreProgress) => void
  /** Largest snapshot accepted, bytes. Default 1 GiB. */
  readonly maxSnapshotBytes?: number
}

function refused(what: string, answer: ControlAnswer): ReplicationRemoteError {
  return new ReplicationRemoteError(
    'REPLICATION_HOME',
    `${what}: the home answered ${answer.code} (${answer.message})`,
    {
      status: answer.status,
      wire: answer.code,
    },
  )
}

/** Runs a request again while the home answers `moved` (the client already follows it to the new home). */
async function following<T extends object>(call: () => Promise<T | ControlAnswer>): Promise<T | ControlAnswer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await call()
    const moved = (answer as Partial<ControlAnswer>).ok === false && (answer as ControlAnswer).code === 'moved'
    if (!moved || attempt >= 100) return answer
  }
}

/**
 * A bootstrap source reading `user`'s log from its home.
 *
 * @example
 * ```ts
 * import { openDb } from '@homedb/tables'
 * import { homeSource } from '@homedb/replication'
 * // alice's home holds her commits up to `writerSeq`; a machine with no copy of her db restores it from there.
 * const db = await openDb(Core, { dir: './data/alice-2', bootstrap: homeSource({ home, user: 'alice', token }) })
 * console.log(db.seq === writerSeq, db.files.get('a')) // -> true, { size: 1 }
 * ```
 */
export function homeSource(options: HomeSourceOptions): BootstrapSource {
  checkUserName(options.user)
  if (!isTokenSource(options.token)) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'token must be a non-empty string or a function')
  }
  const found = homeResolver(options, true)
  const transport = options.transport ?? httpTransport(options.ca === undefined ? {} : { ca: options.ca })
  const clock = options.clock ?? systemClock
  const client = new HomeClient({ home: found.resolver, user: options.user, token: options.token, transport, clock })
  let pageCommits = 256
  let knownHead = 0
  const backoff = new Backoff(DEFAULT_RETRY, options.random ?? cryptoRandom)
  // A home that moved is followed at once; a busy one (429, 503: rate-limited, or a move switching) after its wait.
  const patient = <T extends object>(call: () => Promise<T | ControlAnswer>) =>
    whileBusy(() => following(call), backoff, clock)
  const source: BootstrapSource = {
    async describe(): Promise<BootstrapInfo> {
      const info = await patient(() => client.info())
      if ('ok' in info) throw refused('reading the log info', info)
      if (info.log === null) {
        throw new ReplicationRemoteError('REPLICATION_HOME', `the home holds no log for ${options.user} yet`, {
          user: options.user,
          wire: 'no-log',
        })
      }
      pageCommits = info.log.pageCommits
      knownHead = info.log.head.seq
      const { logId, head, start, snapshot } = info.log
      return {
        logId,
        start: { seq: start.seq, chain: start.chain },
        head: { seq: head.seq, chain: head.chain },
        snapshot: snapshot === null ? null : { seq: snapshot.seq, chain: snapshot.chain, bytes: snapshot.bytes },
      }
    },
    async *snapshotChunks(info) {
      const answer = await patient(() => client.snapshot(info.logId, info.snapshot!.seq))
      if (!answer.ok) throw refused('downloading the snapshot', answer)
      yield* decodeChunks(answer.body, options.maxSnapshotBytes ?? 1024 * 1024 * 1024)
    },
    async *frames(after) {
      let position: LogPosition = { logId: after.logId, seq: after.seq, chain: after.chain }
      let head = knownHead
      for (;;) {
        const sealed = position.seq % pageCommits === 0 && position.seq + pageCommits <= head
        const at = position
        const answer = await patient(() =>
          sealed ? client.page(at.logId, at.seq / pageCommits) : client.frames(at, 0, ''),
        )
        if (!answer.ok) throw refused(`reading commits after seq ${position.seq}`, answer)
        if ('head' in answer) head = (answer.head as LogPosition).seq
        const frames = verifyFrames(splitFrames(answer.body, 1024 * 1024 * 1024), position)
        if (frames.length === 0) return
        for (const f of frames) yield f.frame
        const last = frames[frames.length - 1]!
        position = { logId: position.logId, seq: last.seq, chain: last.chain }
      }
    },
  }
  if (options.onProgress !== undefined) source.onProgress = options.onProgress
  return source
}
