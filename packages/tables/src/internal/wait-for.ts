// db.waitFor(seq): read-your-writes on followers and replicas. Resolves once the db has applied `seq`; rejects
// with a typed error on timeout, abort or close. Nothing is polled: it listens to the commit and close events.
import type { WaitForOptions } from '../database.js'
import { TablesStateError, TablesWaitError } from '../errors.js'

/** What waiting needs from a db: its seq, whether it is closed, and its commit and close events. */
export interface WaitTarget {
  readonly seq: number
  readonly closed: boolean
  onCommit(listener: () => void): () => void
  onClose(listener: () => void): () => void
}

/** `db.waitFor(seq, options)` on `core`; see Database.waitFor. */
export function waitForSeq(core: WaitTarget, seq: number, options: WaitForOptions = {}): Promise<void> {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    return Promise.reject(new TypeError(`waitFor() takes a non-negative integer seq, got ${String(seq)}`))
  }
  const { timeoutMs, signal } = options
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
    return Promise.reject(new TypeError('waitFor(): timeoutMs must be a number ≥ 0'))
  }
  if (core.seq >= seq) return Promise.resolve()
  if (core.closed) {
    return Promise.reject(new TablesStateError('TABLES_CLOSED', 'the db is closed', { seq, reached: core.seq }))
  }
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const cleanup = () => {
      offCommit()
      offClose()
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const offCommit = core.onCommit(() => {
      if (core.seq < seq) return
      cleanup()
      resolve()
    })
    const offClose = core.onClose(() => {
      cleanup()
      reject(
        new TablesStateError('TABLES_CLOSED', 'the db closed before it reached the seq', { seq, reached: core.seq }),
      )
    })
    const onAbort = () => {
      cleanup()
      reject(
        new TablesWaitError(
          'TABLES_WAIT_ABORTED',
          `waitFor(${seq}) was aborted`,
          { seq, reached: core.seq },
          {
            cause: signal?.reason,
          },
        ),
      )
    }
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup()
        reject(
          new TablesWaitError('TABLES_WAIT_TIMEOUT', `the db did not reach seq ${seq} within ${timeoutMs} ms`, {
            seq,
            reached: core.seq,
          }),
        )
      }, timeoutMs)
    }
  })
}
