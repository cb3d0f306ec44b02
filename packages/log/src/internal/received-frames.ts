// Frames received from another node (`appendEncoded`): each must be a complete, undamaged commit frame that
// follows the one before it (seq + 1, chain), starting from the head. Checked all before any is appended, so a
// rejected batch changes nothing.
import { type LogErrorContext, LogInputError } from '../errors.js'
import { asBuffer, chainToHex, FrameType } from './format.js'
import { commitFollows, decodeFrame } from './frame-codec.js'
import type { Point } from './positions.js'

/**
 * A received frame that checked out: a view of the caller's bytes, so the sink copies it before appendEncoded returns
 * (the caller's buffer may change afterwards).
 */
export interface AcceptedFrame {
  readonly frame: Buffer
  readonly seq: number
  readonly chain: bigint
}

/** Checks `frames` against `head`; throws LogInputError naming the first bad one. */
export function checkReceivedFrames(
  frames: readonly Uint8Array[],
  head: Point,
  maxPayloadBytes: number,
  context: (extra: LogErrorContext) => LogErrorContext,
): AcceptedFrame[] {
  let { seq, chain } = head
  const accepted: AcceptedFrame[] = []
  for (const [index, bytes] of frames.entries()) {
    if (!(bytes instanceof Uint8Array)) {
      throw new LogInputError('LOG_BAD_FRAME', `frame ${index} is not a Uint8Array`, context({ index }))
    }
    const buf = asBuffer(bytes)
    const decoded = decodeFrame(buf, 0, buf.byteLength)
    if (typeof decoded === 'string' || decoded.size !== buf.byteLength || decoded.type !== FrameType.commit) {
      const problem = typeof decoded === 'string' ? decoded : decoded.size !== buf.byteLength ? 'length' : 'type'
      throw new LogInputError(
        'LOG_BAD_FRAME',
        `frame ${index} is not a valid commit frame (${problem})`,
        context({ index, problem }),
      )
    }
    if (decoded.payload.byteLength > maxPayloadBytes) {
      throw new LogInputError('LOG_FRAME_TOO_LARGE', `frame ${index} payload is over the limit`, context({ index }))
    }
    const follows = commitFollows(buf, 0, decoded, seq, chain)
    if (follows !== 'ok') {
      throw new LogInputError(
        'LOG_POSITION_MISMATCH',
        follows === 'seq'
          ? `frame ${index} has seq ${decoded.seq}, expected ${seq + 1}`
          : `frame ${index} (seq ${decoded.seq}) does not follow chain ${chainToHex(chain)}`,
        context({ index, expectedSeq: seq + 1, frameSeq: decoded.seq, chain: chainToHex(chain) }),
      )
    }
    seq = decoded.seq
    chain = decoded.chain
    accepted.push({ frame: buf, seq, chain })
  }
  return accepted
}
