// Encoding helpers shared by the home and its clients: positions in headers, JSON and error answers, cache
// headers, bounded body reading. One module, so both sides agree on every byte (PROTOCOL.md).
import { BadPositionError, ReplicationRemoteError } from '../errors.js'
import { type LogPosition, parsePosition } from '../position.js'
import { CONTENT_TYPES, type WireErrorCode, type WireResponse } from '../wire.js'

/** `logId:seq:chain`. */
export function formatPosition(p: LogPosition): string {
  return `${p.logId}:${p.seq}:${p.chain}`
}

/** Parses `logId:seq:chain`; throws BadPositionError. */
export function parsePositionText(text: string | undefined): LogPosition {
  if (typeof text !== 'string') throw new BadPositionError('position missing', {})
  const parts = text.split(':')
  if (parts.length !== 3 || !/^\d{1,16}$/.test(parts[1]!)) {
    throw new BadPositionError('position must be logId:seq:chain', { text: text.slice(0, 80) })
  }
  return parsePosition({ logId: parts[0], seq: Number(parts[1]), chain: parts[2] })
}

/** A `homedb-epoch` header: decimal digits only; NaN for anything else (missing, `1e3`, ` 1`, `0x1`). */
export function parseEpoch(text: string | undefined): number {
  return typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN
}

/** Never cached by anyone: control answers, live tails, errors. */
export const NO_STORE = { 'cache-control': 'no-store' } as const

/** A JSON answer (never cached). */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { 'content-type': CONTENT_TYPES.json, ...NO_STORE, ...headers },
    body: Buffer.from(JSON.stringify(value)),
  }
}

/** The body of an error answer. */
export interface WireErrorBody {
  readonly error: {
    readonly code: WireErrorCode
    readonly message: string
    readonly head?: LogPosition | null
    readonly start?: LogPosition | null
    readonly epoch?: number
    /** `moved`: the user's home now (with `epoch`, the homeEpoch it serves the user under). */
    readonly home?: string
    /** With 429/503 (`busy` included): how long to wait before asking again, ms (also as `Retry-After`, whole seconds). */
    readonly retryAfterMs?: number
  }
}

/** An error answer with a stable code (never cached); `retryAfterMs` also sets `Retry-After`. */
export function wireError(
  status: number,
  code: WireErrorCode,
  message: string,
  extra: Omit<WireErrorBody['error'], 'code' | 'message'> = {},
): WireResponse {
  const headers: Record<string, string> =
    extra.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(extra.retryAfterMs / 1000))) }
  return json(status, { error: { code, message, ...extra } } satisfies WireErrorBody, headers)
}

/** Reads a whole body, refusing more than `limit` bytes. Returns undefined when over the limit. */
export async function readBody(
  body: Uint8Array | AsyncIterable<Uint8Array>,
  limit: number,
): Promise<Buffer | undefined> {
  if (body instanceof Uint8Array) {
    return body.byteLength > limit ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  }
  const parts: Buffer[] = []
  let total = 0
  for await (const chunk of body) {
    total += chunk.byteLength
    if (total > limit) return undefined
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  }
  return Buffer.concat(parts)
}

/** Parses a JSON body; undefined if it is not JSON. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    return undefined
  }
}

/** Reads an error answer's body (client side); tolerant of anything. */
export async function readErrorBody(body: AsyncIterable<Uint8Array>): Promise<WireErrorBody['error'] | undefined> {
  const bytes = await readBody(body, 64 * 1024).catch(() => undefined)
  if (bytes === undefined) return undefined
  const parsed = parseJson(bytes) as Partial<WireErrorBody> | undefined
  const error = parsed?.error
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string') return undefined
  return error
}

/** A position from a JSON field, or null; throws REPLICATION_PROTOCOL if malformed. */
export function positionOrNull(value: unknown, what: string): LogPosition | null {
  if (value === null || value === undefined) return null
  try {
    return parsePosition(value)
  } catch (error) {
    throw new ReplicationRemoteError(
      'REPLICATION_PROTOCOL',
      `the home sent a malformed ${what}`,
      { value },
      {
        cause: error,
      },
    )
  }
}

/**
 * Drains and discards a body (so a keep-alive connection can be reused), up to `limit` bytes: a longer one — an
 * answer that never ends — is abandoned instead (its connection closes), so draining always ends.
 */
export async function drain(body: AsyncIterable<Uint8Array>, limit = 64 * 1024): Promise<void> {
  let bytes = 0
  try {
    for await (const chunk of body) {
      bytes += chunk.byteLength
      if (bytes > limit) break
    }
  } catch {
    // the connection is gone: nothing to reuse
  }
}
