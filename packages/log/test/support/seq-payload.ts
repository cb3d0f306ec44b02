// Payloads that encode their own seq, so a test can check that the commit read back at seq N is the one written
// as seq N (not a neighbour, not a torn copy). Length and bytes are a pure function of the seq.

/** Payload length for `seq`: from 16 to 16 + spread - 1 bytes, scattered so frames vary in size. */
export function payloadLength(seq: number, spread = 400): number {
  return 16 + ((Math.imul(seq, 2654435761) >>> 0) % spread)
}

/** The payload committed as `seq`: [u64 seq LE][u32 length LE][u32 ~seq][bytes (seq * 31 + i) & 0xff …]. */
export function payloadFor(seq: number, spread = 400): Buffer {
  const length = payloadLength(seq, spread)
  const buf = Buffer.allocUnsafe(length)
  buf.writeUInt32LE(seq % 0x1_0000_0000, 0)
  buf.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), 4)
  buf.writeUInt32LE(length, 8)
  buf.writeUInt32LE(~seq >>> 0, 12)
  for (let i = 16; i < length; i++) buf[i] = (seq * 31 + i) & 0xff
  return buf
}

/** Why `payload` is not the payload of `seq`, or `undefined` if it is. */
export function payloadProblem(seq: number, payload: Uint8Array, spread = 400): string | undefined {
  const expected = payloadFor(seq, spread)
  if (payload.byteLength < 8) return `payload of ${payload.byteLength} bytes is too short to carry a seq`
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  const carried = view.readUInt32LE(0) + view.readUInt32LE(4) * 0x1_0000_0000
  if (carried !== seq) return `commit ${seq} carries the payload of seq ${carried}`
  if (!expected.equals(view)) return `commit ${seq} has a damaged payload (${payload.byteLength} bytes)`
  return undefined
}

/** Snapshot content standing for "the state after `seq`" (a few KiB, so writing it takes a moment). */
export function stateAt(seq: number): Buffer {
  const head = Buffer.from(`state after ${seq};`)
  const buf = Buffer.alloc(4096 + (seq % 1024))
  for (let i = 0; i < buf.byteLength; i += head.byteLength) head.copy(buf, i)
  return buf
}
