// The client side of the protocol, shared by the shipper, replicas and homeSource: one method per endpoint, over
// any Transport. Control answers (409s, 429s, …) come back as values, the caller's state machine decides; a
// refused token throws REPLICATION_AUTH (the caller may `refreshToken()` and try again); anything the home sends
// that does not follow the protocol — a malformed header or JSON field, a body over the client's bound — throws
// REPLICATION_PROTOCOL; network failures throw whatever the transport threw (callers retry).
import { type Clock, systemClock } from '../clock.js'
import { ReplicationRemoteError } from '../errors.js'
import type { LogPosition } from '../position.js'
import type { TokenSource } from '../token-source.js'
import type { Transport, TransportResponse } from '../transport.js'
import { CONTENT_TYPES, HEADERS, type WireErrorCode } from '../wire.js'
import { encodeChunks } from './chunk-stream.js'
import { HomeResolver } from './home-resolver.js'
import { drain, formatPosition, parsePositionText, positionOrNull, readBody, readErrorBody } from './wire-codec.js'

/** A 4xx/5xx answer with its wire code. */
export interface ControlAnswer {
  readonly ok: false
  readonly status: number
  readonly code: WireErrorCode | string
  readonly message: string
  readonly head: LogPosition | null
  readonly start: LogPosition | null
  readonly epoch: number | undefined
  /** With 429/503: how long the home asked the client to wait, ms (`Retry-After`). */
  readonly retryAfterMs: number | undefined
}

/** What log info says (`log` is null until the writer shipped something). */
export interface LogInfo {
  readonly epoch: number
  readonly log: {
    readonly logId: string
    readonly head: LogPosition
    readonly start: LogPosition
    readonly snapshot: (LogPosition & { readonly bytes: number; readonly etag: string }) | null
    readonly pageCommits: number
    readonly sealedPages: number
  } | null
}

export interface HomeClientOptions {
  /** The home: a URL, or a resolver that finds it (the directory) and follows `moved` answers. */
  readonly home: string | HomeResolver
  readonly user: string
  readonly token: TokenSource
  readonly transport: Transport
  /** Largest frames body (tail answer or page) accepted, bytes. Default 1 GiB. */
  readonly maxBodyBytes?: number
  /** The time an HTTP-date `Retry-After` is compared with (default: the system clock). */
  readonly clock?: Clock
}

const MAX_JSON = 1024 * 1024

function protocolError(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
  return new ReplicationRemoteError('REPLICATION_PROTOCOL', message, context, cause === undefined ? {} : { cause })
}

/**
 * `Retry-After` (seconds, or an HTTP date compared with `now`) or the body's `retryAfterMs`, in ms; undefined if
 * neither is usable.
 */
function retryAfter(header: string | undefined, body: unknown, now: number): number | undefined {
  if (typeof body === 'number' && Number.isFinite(body) && body >= 0) return Math.min(body, 3_600_000)
  if (header === undefined) return undefined
  const seconds = /^\d{1,7}$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - now) / 1000
  return Number.isFinite(seconds) ? Math.min(Math.max(0, seconds) * 1000, 3_600_000) : undefined
}

function requiredPosition(value: unknown, what: string): LogPosition {
  const position = positionOrNull(value, what)
  if (position === null) throw protocolError(`the home sent no ${what}`)
  return position
}

function count(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw protocolError(`the home sent a malformed ${what}`, { value: String(value).slice(0, 40) })
  }
  return value
}

export class HomeClient {
  private readonly resolver: HomeResolver
  private readonly maxBodyBytes: number
  private token: string | undefined

  constructor(private readonly options: HomeClientOptions) {
    this.resolver =
      typeof options.home === 'string' ? new HomeResolver({ user: options.user, home: options.home }) : options.home
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024 * 1024
    if (typeof options.token === 'string') this.token = options.token
  }

  private async authorization(): Promise<string> {
    if (this.token === undefined) {
      const source = this.options.token as () => string | Promise<string>
      const token = await source()
      if (typeof token !== 'string' || token === '') throw this.authError('the token function gave no token')
      this.token = token
    }
    return `Bearer ${this.token}`
  }

  /**
   * Whether a refused token is worth trying again: true when the token is a function, which the next request
   * calls again (after a `401` the client forgets the token it had); false for a fixed token.
   */
  get renewable(): boolean {
    return typeof this.options.token === 'function'
  }

  private authError(message: string, home?: string): ReplicationRemoteError {
    return new ReplicationRemoteError('REPLICATION_AUTH', message, {
      user: this.options.user,
      ...(home === undefined ? {} : { home }),
    })
  }

  /** A whole frames body, within the client's bound (over it: REPLICATION_PROTOCOL). */
  private async frameBody(response: TransportResponse): Promise<Uint8Array> {
    const bytes = await readBody(response.body, this.maxBodyBytes)
    if (bytes === undefined) throw protocolError(`the home sent a body over ${this.maxBodyBytes} bytes`)
    return bytes
  }

  /** The home this client asks now. */
  home(): Promise<string> {
    return this.resolver.current()
  }

  private async send(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    extra: {
      headers?: Record<string, string>
      body?: Uint8Array | AsyncIterable<Uint8Array>
      signal?: AbortSignal
    } = {},
  ): Promise<TransportResponse> {
    const home = await this.resolver.current()
    const response = await this.options.transport.request({
      method,
      url: `${home}/v1/users/${encodeURIComponent(this.options.user)}${path}`,
      headers: { authorization: await this.authorization(), ...extra.headers },
      ...(extra.body === undefined ? {} : { body: extra.body }),
      ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    })
    if (response.status === 401) {
      await drain(response.body)
      if (this.renewable) this.token = undefined
      this.resolver.refused()
      throw this.authError(`the home refused the token for ${this.options.user}`, home)
    }
    if (response.status < 300) this.resolver.settled()
    return response
  }

  private async control(response: TransportResponse): Promise<ControlAnswer> {
    const error = await readErrorBody(response.body)
    // `moved`: the user lives elsewhere now; the next request goes there (the caller resolves again).
    if (error?.code === 'moved' && typeof error.home === 'string' && typeof error.epoch === 'number') {
      await this.resolver.moved(error.home, error.epoch)
    }
    return {
      ok: false,
      status: response.status,
      code: error?.code ?? `http-${response.status}`,
      message: error?.message ?? `HTTP ${response.status}`,
      head: positionOrNull(error?.head, 'head'),
      start: positionOrNull(error?.start, 'start'),
      epoch: typeof error?.epoch === 'number' ? error.epoch : undefined,
      retryAfterMs: retryAfter(
        response.headers['retry-after'],
        error?.retryAfterMs,
        (this.options.clock ?? systemClock).now(),
      ),
    }
  }

  private async json<T>(response: TransportResponse): Promise<T> {
    const bytes = await readBody(response.body, MAX_JSON)
    try {
      return JSON.parse((bytes ?? Buffer.alloc(0)).toString('utf8')) as T
    } catch (cause) {
      throw new ReplicationRemoteError('REPLICATION_PROTOCOL', 'the home sent a malformed JSON body', {}, { cause })
    }
  }

  async info(signal?: AbortSignal): Promise<LogInfo | ControlAnswer> {
    const response = await this.send('GET', '/log', signal === undefined ? {} : { signal })
    if (response.status !== 200) return this.control(response)
    const body = await this.json<{ epoch?: unknown; log?: unknown }>(response)
    const epoch = count(body?.epoch, 'epoch', 1)
    if (body.log === null || body.log === undefined) return { epoch, log: null }
    if (typeof body.log !== 'object') throw protocolError('the home sent malformed log info')
    const l = body.log as Record<string, unknown>
    const head = requiredPosition(l.head, 'head')
    const snap = l.snapshot as Record<string, unknown> | null | undefined
    const snapshot =
      snap === null || snap === undefined
        ? null
        : {
            ...requiredPosition(snap, 'snapshot'),
            bytes: count(snap.bytes, 'snapshot size', 0),
            etag: typeof snap.etag === 'string' ? snap.etag : '',
          }
    const start = requiredPosition(l.start, 'start')
    if (start.logId !== head.logId || start.seq > head.seq) throw protocolError('the home sent a start past its head')
    return {
      epoch,
      log: {
        logId: head.logId,
        head,
        start,
        snapshot,
        pageCommits: count(l.pageCommits, 'pageCommits', 1),
        sealedPages: count(l.sealedPages, 'sealedPages', 0),
      },
    }
  }

  async append(
    expected: LogPosition,
    epoch: number,
    frames: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ ok: true; head: LogPosition } | ControlAnswer> {
    const response = await this.send('POST', '/append', {
      headers: {
        'content-type': CONTENT_TYPES.frames,
        [HEADERS.position]: formatPosition(expected),
        [HEADERS.epoch]: String(epoch),
      },
      body: frames,
      ...(signal === undefined ? {} : { signal }),
    })
    if (response.status !== 200) return this.control(response)
    const body = await this.json<{ head?: unknown }>(response)
    return { ok: true, head: requiredPosition(body?.head, 'head') }
  }

  async putSnapshot(
    position: LogPosition,
    epoch: number,
    replaces: LogPosition | null | undefined,
    chunks: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<{ ok: true; head: LogPosition | null } | ControlAnswer> {
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES.snapshot,
      [HEADERS.position]: formatPosition(position),
      [HEADERS.epoch]: String(epoch),
    }
    if (replaces !== undefined) headers[HEADERS.replaces] = replaces === null ? 'none' : formatPosition(replaces)
    const response = await this.send('PUT', '/snapshot', {
      headers,
      body: encodeChunks(chunks),
      ...(signal === undefined ? {} : { signal }),
    })
    if (response.status !== 200) return this.control(response)
    const body = await this.json<{ head?: unknown }>(response)
    return { ok: true, head: positionOrNull(body?.head, 'head') }
  }

  /** Frames after `position` (waits up to `waitMs` at the head). */
  async frames(
    position: LogPosition,
    waitMs: number,
    cursor: string,
    signal?: AbortSignal,
  ): Promise<{ ok: true; body: Uint8Array; head: LogPosition; cursor: string } | ControlAnswer> {
    const query = `position=${formatPosition(position)}&wait=${Math.floor(waitMs)}&cursor=${encodeURIComponent(cursor)}`
    const response = await this.send('GET', `/frames?${query}`, signal === undefined ? {} : { signal })
    if (response.status !== 200) return this.control(response)
    let head: LogPosition
    try {
      head = parsePositionText(response.headers[HEADERS.head])
    } catch (cause) {
      await drain(response.body)
      throw protocolError(`the home sent a malformed ${HEADERS.head} header`, {}, cause)
    }
    const next = (response.headers[HEADERS.cursor] ?? '').slice(0, 256)
    return { ok: true, body: await this.frameBody(response), head, cursor: next }
  }

  /** A sealed page of commits. */
  async page(
    logId: string,
    page: number,
    signal?: AbortSignal,
  ): Promise<{ ok: true; body: Uint8Array } | ControlAnswer> {
    const response = await this.send('GET', `/logs/${logId}/pages/${page}`, signal === undefined ? {} : { signal })
    if (response.status !== 200) return this.control(response)
    return { ok: true, body: await this.frameBody(response) }
  }

  /** The snapshot's body stream (chunk records), or the control answer. */
  async snapshot(
    logId: string,
    seq: number,
    signal?: AbortSignal,
  ): Promise<{ ok: true; body: AsyncIterable<Uint8Array> } | ControlAnswer> {
    const response = await this.send('GET', `/logs/${logId}/snapshots/${seq}`, signal === undefined ? {} : { signal })
    if (response.status !== 200) return this.control(response)
    return { ok: true, body: response.body }
  }

  async confirmSlot(slot: string, position: LogPosition, signal?: AbortSignal): Promise<void> {
    const response = await this.send('PUT', `/slots/${slot}`, {
      headers: { 'content-type': CONTENT_TYPES.json },
      body: Buffer.from(JSON.stringify({ position })),
      ...(signal === undefined ? {} : { signal }),
    })
    await drain(response.body)
  }

  async dropSlot(slot: string): Promise<void> {
    const response = await this.send('DELETE', `/slots/${slot}`)
    await drain(response.body)
  }
}
