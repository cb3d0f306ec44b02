// The home's meta record of a user's latest snapshot (`{ logId, seq, chain, bytes, etag }`: what log info names and
// `GET …/snapshots/:seq` serves) follows the log, never the other way round. A snapshot is stored in the log first
// and recorded in the meta after, so a crash between the two (a writer's snapshot upload, a move's copy) leaves a
// log whose latest snapshot is newer than the record, and the older one the record names is gone from the log:
// every replica that needs a snapshot would be sent to it forever. Each time the home opens a log it records the
// log's latest snapshot again if the record names another (found by the simulation, long seed 100136).
import type { Log } from '@homedb/log'
import { Xxh64 } from '@node-rs/xxhash'
import type { HomeContext } from './home-context.js'

/** The ETag of a snapshot payload: xxh64 over its chunks in order, and its length. */
export function snapshotEtag(hash: Xxh64, bytes: number): string {
  return `"${hash.digest().toString(16).padStart(16, '0')}.${bytes}"`
}

/** Records `log`'s latest snapshot as `user`'s if the meta record names another one of that log (or none). */
export async function recordLatestSnapshot(ctx: HomeContext, user: string, log: Log): Promise<void> {
  const record = ctx.meta.user(user)
  if (record === undefined) return
  const latest = await log.latestSnapshot()
  if (latest === undefined) return
  const known = record.snapshot
  if (known !== null && known.logId === log.logId && known.seq === latest.seq) return
  const hash = new Xxh64()
  let bytes = 0
  for await (const chunk of latest.chunks()) {
    hash.update(chunk)
    bytes += chunk.byteLength
  }
  const snapshot = { logId: log.logId, seq: latest.seq, chain: latest.chain, bytes, etag: snapshotEtag(hash, bytes) }
  await ctx.meta.updateUser(user, { snapshot })
}
