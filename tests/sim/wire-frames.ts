// Reading commit frames that cross the simulated network (the layout of packages/log/FORMAT.md, "Frame": body length
// at 0, CRC at 4, type at 8, chain at 12, seq at 20, payload at 28), so the invariant checks know which (seq, chain)
// each node holds; and re-sealing frames whose payload a broken network altered (length, CRC and chain recomputed by
// an in-memory log, so every check of the receiver passes: only the invariants can catch it).
import { openLog } from '@homedb/log'

/** What a frame claims. */
export interface FrameClaim {
  readonly seq: number
  readonly chain: string
  readonly payload: Uint8Array
}

const HEADER = 28

/** The frames of a body, back to back; stops at the first that does not fit (the receiver refuses those). */
export function readFrames(body: Uint8Array): FrameClaim[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const out: FrameClaim[] = []
  for (let at = 0; at + HEADER <= buf.byteLength; ) {
    const size = 8 + buf.readUInt32LE(at)
    if (size < HEADER || at + size > buf.byteLength) break
    out.push({
      seq: buf.readUInt32LE(at + 20) + buf.readUInt32LE(at + 24) * 0x1_0000_0000,
      chain: buf
        .readBigUInt64LE(at + 12)
        .toString(16)
        .padStart(16, '0'),
      payload: buf.subarray(at + HEADER, at + size),
    })
    at += size
  }
  return out
}

/**
 * The frames of `body` (which continue the position whose chain is `afterChain`) with the payload of frame `index`
 * replaced by `payload`, every frame from there on re-sealed (length, CRC, chain), so the body is a valid
 * continuation of that position: a forgery no frame check can see.
 */
export async function resealed(
  body: Uint8Array,
  afterChain: string,
  index: number,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const frames = readFrames(body)
  const target = frames[index]
  if (target === undefined) return body
  const log = await openLog(undefined, {
    durability: 'memory',
    create: { start: { seq: target.seq - 1, chain: index === 0 ? afterChain : frames[index - 1]!.chain } },
  })
  try {
    for (let i = index; i < frames.length; i++) log.append(i === index ? payload : frames[i]!.payload)
    const tail: Uint8Array[] = []
    for await (const c of log.readEncoded({ from: target.seq - 1 })) tail.push(c.frame)
    return Buffer.concat([frameBytes(body, index), ...tail])
  } finally {
    await log.close()
  }
}

/** The bytes of the first `count` frames of `body`. */
function frameBytes(body: Uint8Array, count: number): Uint8Array {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  let at = 0
  for (let i = 0; i < count; i++) at += 8 + buf.readUInt32LE(at)
  return buf.subarray(0, at)
}
