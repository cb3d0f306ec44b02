// The source a point-in-time open (`openDb(schema, { readOnly: true, upTo })`) loads from: the log as it was after
// commit `upTo`. It offers the latest snapshot at or before `upTo` and the commits up to it, and never follows.
import type { Log } from '@homedb/log'
import type { CommitSource, SnapshotSource } from '../commit-source.js'
import { TablesConfigError } from '../errors.js'

/** A read-only view of `log` ending at commit `upTo`. Throws `TABLES_CONFIG` if the log cannot give that state. */
export async function sourceUpTo(log: Log, upTo: number): Promise<CommitSource & { readonly head: { seq: number } }> {
  if (upTo > log.head.seq) {
    throw new TablesConfigError(`upTo ${upTo} is past the log's last commit (seq ${log.head.seq})`, {
      upTo,
      seq: log.head.seq,
    })
  }
  const latest = await log.latestSnapshot()
  const snapshot: SnapshotSource | undefined = latest !== undefined && latest.seq <= upTo ? latest : undefined
  const from = snapshot?.seq ?? 0
  if (log.start.seq > from) {
    throw new TablesConfigError(
      `upTo ${upTo} is before the oldest state this log can rebuild: its commits start after seq ${log.start.seq} and its snapshot is at seq ${latest?.seq ?? 'none'}`,
      { upTo, start: log.start.seq, snapshotSeq: latest?.seq },
    )
  }
  return {
    start: log.start,
    head: { seq: upTo },
    latestSnapshot: async () => snapshot,
    read: (options) => commitsUpTo(log, options.from, upTo),
    tail: () => {
      throw new TypeError('a point-in-time db does not follow')
    },
  }
}

async function* commitsUpTo(
  log: Log,
  from: number,
  upTo: number,
): AsyncGenerator<{ seq: number; payload: Uint8Array }> {
  if (from >= upTo) return
  for await (const commit of log.read({ from })) {
    yield commit
    if (commit.seq >= upTo) return
  }
}
