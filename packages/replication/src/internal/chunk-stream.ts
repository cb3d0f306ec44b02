// Snapshots travel as chunk records: `u32 length, u32 crc32c(data), data`, ended by `u32 0xFFFFFFFF`
// (PROTOCOL.md, "Snapshot bodies"). Both sides stream them: nothing here holds more than one chunk.
import { crc32c } from '@node-rs/crc32'
import { ReplicationRemoteError } from '../errors.js'

const END = 0xffff_ffff
/** Largest chunk accepted on the wire (the log's own snapshot chunk limit). */
export const MAX_WIRE_CHUNK = 16 * 1024 * 1024

/** Encodes chunks as records, then the end mark. */
export async function* encodeChunks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    for (let start = 0; start < chunk.byteLength || start === 0; start += MAX_WIRE_CHUNK) {
      const piece = chunk.subarray(start, Math.min(chunk.byteLength, start + MAX_WIRE_CHUNK))
      const head = Buffer.allocUnsafe(8)
      head.writeUInt32LE(piece.byteLength, 0)
      head.writeUInt32LE(crc32c(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)), 4)
      yield head
      yield piece
      if (chunk.byteLength === 0) break
    }
  }
  const end = Buffer.allocUnsafe(4)
  end.writeUInt32LE(END, 0)
  yield end
}

/** Reads bytes from a stream in exact amounts. */
class Reader {
  private pending: Buffer[] = []
  private buffered = 0
  private readonly it: AsyncIterator<Uint8Array>
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]()
  }
  async take(n: number): Promise<Buffer | undefined> {
    while (this.buffered < n) {
      const next = await this.it.next()
      if (next.done) return undefined
      const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
      this.pending.push(b)
      this.buffered += b.byteLength
    }
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending)
    this.pending = all.byteLength > n ? [all.subarray(n)] : []
    this.buffered = all.byteLength - n
    return all.subarray(0, n)
  }
  async atEnd(): Promise<boolean> {
    if (this.buffered > 0) return false
    const next = await this.it.next()
    if (next.done) return true
    this.pending.push(Buffer.from(next.value))
    this.buffered += next.value.byteLength
    return next.value.byteLength === 0 ? this.atEnd() : false
  }
}

/**
 * Decodes chunk records, checking each CRC, the total (8 bytes per record head plus its data) against `maxBytes`,
 * and that the end mark closes the body.
 * Throws `REPLICATION_PROTOCOL` on anything else (a truncated upload or download is never taken as complete).
 */
export async function* decodeChunks(
  body: Uint8Array | AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  const reader = new Reader(body instanceof Uint8Array ? once(body) : body)
  let total = 0
  for (;;) {
    const head = await reader.take(4)
    if (head === undefined) throw truncated(total)
    const length = head.readUInt32LE(0)
    if (length === END) break
    if (length > MAX_WIRE_CHUNK) throw protocol(`a snapshot chunk of ${length} bytes`, total)
    // Record heads count too: endless empty records must end at the limit like anything else.
    total += 8 + length
    if (total > maxBytes) throw protocol(`a snapshot over ${maxBytes} bytes`, total)
    const crc = await reader.take(4)
    const data = length === 0 ? Buffer.alloc(0) : await reader.take(length)
    if (crc === undefined || data === undefined) throw truncated(total)
    if (crc32c(data) !== crc.readUInt32LE(0)) throw protocol('a snapshot chunk with a wrong CRC', total)
    yield data
  }
  if (!(await reader.atEnd())) throw protocol('bytes after the end of the snapshot', total)
}

function truncated(at: number): ReplicationRemoteError {
  return protocol('a snapshot body that ends before its end mark', at)
}

function protocol(what: string, at: number): ReplicationRemoteError {
  return new ReplicationRemoteError('REPLICATION_PROTOCOL', `received ${what}`, { bytes: at })
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}
