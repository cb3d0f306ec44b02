// db.waitFor(seq): read-your-writes on followers and replicas. Resolves once the db has applied `seq`; rejects
// with a typed error on timeout, abort or close. Nothing is polled: it listens to the commit and close events.
import { TablesStateError, TablesWaitError } from '../errors.js'
import type { DbCore } from './db-core.js'

/** Options of `db.waitFor`. */
export interface WaitForOptions {
  /** Give up after this many ms with `TABLES_WAIT_TIMEOUT`. Default: wait as long as it takes. */
  readonly timeoutMs?: number
  /** Give up when it aborts, with `TABLES_WAIT_ABORTED`. */
  readonly signal?: AbortSignal
}

export function waitForSeq(core: DbCore, seq: number, options: WaitForOptions = {}): Promise<void> {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    return Promise.reject(new TypeError(`waitFor() takes a non-negative integer seq, got ${String(seq)}`))
  }
  const { timeoutMs, signal } = options
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
    return Promise.reject(new TypeError('waitFor(): timeoutMs must be a number ≥ 0'))
  }
  if (core.seq >= seq) return Promise.resolve()
  if (core.closing !== undefined) {
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
