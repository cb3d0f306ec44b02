// Sealed pages as streams: a page is sent as the client takes it, in pieces of at most 64 KiB (or one larger
// frame), so a page of any size pins one log read window and one piece however slowly it is read, and a reader
// that stops reading pins that and no more until the server cuts it. A page's ETag names the chain after its last
// commit; pages never change, so that chain is read once per page and kept (a bounded map per open log).
import type { Log } from '@homedb/log'

/** Bytes gathered into one piece of a streamed page. */
const PIECE_BYTES = 64 * 1024
/** Page chains kept per open log (least recently used forgotten first). */
const MAX_CHAINS = 1024

const chains = new WeakMap<Log, Map<number, string>>()

/** The chain after commit `to`, the last of page `page` (read from that commit's frame once, then remembered). */
export async function pageChain(log: Log, page: number, to: number): Promise<string> {
  let known = chains.get(log)
  const cached = known?.get(page)
  if (cached !== undefined) return cached
  let chain = ''
  for await (const c of log.readEncoded({ from: to - 1 })) {
    chain = c.chain
    break
  }
  if (known === undefined) {
    known = new Map()
    chains.set(log, known)
  }
  if (known.size >= MAX_CHAINS) known.delete(known.keys().next().value!)
  known.set(page, chain)
  return chain
}

/** One piece: a lone frame as it is (no copy), several joined. */
function join(frames: Uint8Array[], bytes: number): Uint8Array {
  return frames.length === 1 ? frames[0]! : Buffer.concat(frames, bytes)
}

/** The frames after `from` up to `to`, in pieces of at most PIECE_BYTES (a larger frame is a piece of its own). */
export async function* streamPage(log: Log, from: number, to: number): AsyncGenerator<Uint8Array> {
  let piece: Uint8Array[] = []
  let bytes = 0
  for await (const c of log.readEncoded({ from })) {
    if (c.seq > to) break
    if (bytes > 0 && bytes + c.frame.byteLength > PIECE_BYTES) {
      yield join(piece, bytes)
      piece = []
      bytes = 0
    }
    piece.push(c.frame)
    bytes += c.frame.byteLength
    if (c.seq === to) break
  }
  if (bytes > 0) yield join(piece, bytes)
}
