// The snapshot a db writes through @homedb/log: a header chunk (format, seq, each table's kind and value version)
// followed by chunks of state operations, each chunk one msgpack array encoded on its own (see FORMAT.md).
import { TablesReplayError } from '../errors.js'
import type { TableKind } from '../table-kind.js'
import { decodePayload, encodePayload, encodeValue } from './codec.js'
import type { Op } from './opcodes.js'

export const SNAPSHOT_FORMAT = 1

/** The first chunk of a snapshot. */
export interface SnapshotHeader {
  readonly format: number
  readonly seq: number
  readonly tables: { readonly [name: string]: { readonly kind: TableKind; readonly version: number } }
}

/** Encodes a snapshot lazily: the header, then `ops` in chunks of `perChunk`. Counts ops into `counter`. */
export function* encodeSnapshot(
  header: SnapshotHeader,
  ops: Iterable<Op>,
  perChunk: number,
  counter: { ops: number },
): Generator<Uint8Array> {
  yield encodeValue(header)
  let batch: Op[] = []
  for (const op of ops) {
    batch.push(op)
    if (batch.length === perChunk) {
      counter.ops += batch.length
      yield encodePayload(batch)
      batch = []
    }
  }
  if (batch.length > 0) {
    counter.ops += batch.length
    yield encodePayload(batch)
  }
}

function isHeader(value: unknown, seq: number): value is SnapshotHeader {
  if (typeof value !== 'object' || value === null) return false
  const h = value as Record<string, unknown>
  if (h.format !== SNAPSHOT_FORMAT || h.seq !== seq || typeof h.tables !== 'object' || h.tables === null) return false
  for (const t of Object.values(h.tables as Record<string, unknown>)) {
    const entry = t as Record<string, unknown> | null
    if (typeof entry !== 'object' || entry === null) return false
    if (typeof entry.kind !== 'string' || !Number.isSafeInteger(entry.version)) return false
  }
  return true
}

/** Decodes a snapshot's chunks: the header first, then arrays of operations. */
export async function* decodeSnapshot(
  chunks: AsyncIterable<Uint8Array>,
  seq: number,
): AsyncGenerator<{ header: SnapshotHeader } | { ops: unknown[] }> {
  let first = true
  for await (const chunk of chunks) {
    let value: unknown
    try {
      value = decodePayload(chunk)
    } catch (error) {
      throw new TablesReplayError(`the snapshot at seq ${seq} does not decode`, { seq }, { cause: error })
    }
    if (first) {
      if (!isHeader(value, seq)) {
        throw new TablesReplayError(`the snapshot at seq ${seq} has no valid header (format ${SNAPSHOT_FORMAT})`, {
          seq,
        })
      }
      first = false
      yield { header: value }
      continue
    }
    if (!Array.isArray(value))
      throw new TablesReplayError(`a chunk of the snapshot at seq ${seq} is not an array`, { seq })
    yield { ops: value }
  }
  if (first) throw new TablesReplayError(`the snapshot at seq ${seq} is empty`, { seq })
}
