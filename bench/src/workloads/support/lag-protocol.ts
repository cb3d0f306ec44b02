// What the replication workload and its writer process share: the schema, the IPC messages and the clock.
import { lookupTable, schema } from '@homedb/tables'
import type { SmallRecord } from '../../records.js'

/** `events`: commit number → the record and the wall-clock time (ms) of its commit in the writer's memory. */
export const LagSchema = schema({ events: lookupTable<number, { t: number; record: SmallRecord }>() })

/** Parent → writer. */
export type LagWriterCommand =
  | { readonly type: 'steady'; readonly count: number; readonly intervalMs: number }
  | { readonly type: 'burst'; readonly count: number }
  | { readonly type: 'close' }

/** Writer → parent. */
export type LagWriterReply =
  | { readonly type: 'ready'; readonly seq: number }
  | { readonly type: 'done'; readonly seq: number; readonly startMs?: number; readonly endMs?: number }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly message: string }

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine (both read
 * the same system clock at their start; `performance.now()` is monotonic from there).
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now()
}
