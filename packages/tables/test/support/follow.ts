// Waiting for a follower by its events, never by sleeping: resolves at the commit event that brings it to a seq.
import type { CommitEvent, Database } from '../../src/index.js'

/**
 * Resolves once `db.seq >= seq` (at once if it already is), from the follower's own commit events. The deadline
 * only turns a follower that stopped into a readable failure; nothing waits for it to pass.
 */
export function waitForSeq(db: Database, seq: number, deadlineMs = 10_000): Promise<void> {
  if (db.seq >= seq) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`the follower stopped at seq ${db.seq}; expected it to reach ${seq} within ${deadlineMs} ms`))
    }, deadlineMs)
    const off = db.onCommit(() => {
      if (db.seq < seq) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

/** Records every commit event of `db` from now on. */
export function recordEvents(db: Database): CommitEvent[] {
  const events: CommitEvent[] = []
  db.onCommit((event) => events.push(event))
  return events
}
