// The last frames the home appended to each open log, kept in memory (bounded by count and bytes), so replicas
// tailing at the head are answered without reading the log files again: the append had the bytes in hand.
import type { Log } from '@homedb/log'
import type { LogPosition } from '../position.js'
import { frameHeader } from './frames.js'

const MAX_FRAMES = 2048
const MAX_BYTES = 4 * 1024 * 1024

interface Recent {
  /** Position before the first cached frame. */
  base: { seq: number; chain: string }
  frames: { seq: number; chain: string; frame: Uint8Array }[]
  bytes: number
}

const recent = new WeakMap<Log, Recent>()

/** Records frames just made durable in `log`, which held `before` as its head before them. */
export function remember(log: Log, before: { seq: number; chain: string }, frames: readonly Uint8Array[]): void {
  let r = recent.get(log)
  const last = r?.frames[r.frames.length - 1]
  const end = last === undefined ? r?.base : { seq: last.seq, chain: last.chain }
  if (r === undefined || end === undefined || end.seq !== before.seq || end.chain !== before.chain) {
    r = { base: { ...before }, frames: [], bytes: 0 }
    recent.set(log, r)
  }
  for (const frame of frames) {
    const copy = Uint8Array.from(frame)
    r.frames.push({ ...frameHeader(copy), frame: copy })
    r.bytes += copy.byteLength
  }
  while (r.frames.length > MAX_FRAMES || (r.bytes > MAX_BYTES && r.frames.length > 1)) {
    const dropped = r.frames.shift()!
    r.bytes -= dropped.frame.byteLength
    r.base = { seq: dropped.seq, chain: dropped.chain }
  }
}

/**
 * The cached frames after `position` up to `to` (at most `maxBytes`, at least one), if the cache covers that
 * position with the same chain; `undefined` when the files must be read.
 */
export function recall(log: Log, position: LogPosition, to: number, maxBytes: number): Uint8Array[] | undefined {
  const r = recent.get(log)
  // Only what the log itself still holds: the cache is a shortcut, never a longer retention.
  if (r === undefined || position.logId !== log.logId || position.seq < log.start.seq) return undefined
  const index = position.seq - r.base.seq
  if (index < 0 || index > r.frames.length) return undefined
  const chain = index === 0 ? r.base.chain : r.frames[index - 1]!.chain
  if (chain !== position.chain) return undefined
  const out: Uint8Array[] = []
  let bytes = 0
  for (let i = index; i < r.frames.length && r.frames[i]!.seq <= to; i++) {
    out.push(r.frames[i]!.frame)
    bytes += r.frames[i]!.frame.byteLength
    if (bytes >= maxBytes) break
  }
  return out
}
