// The client side of the protocol, shared by the shipper, replicas and homeSource: one method per endpoint, over
// any Transport. Control answers (409s) come back as values, the caller's state machine decides; a refused
// token throws REPLICATION_AUTH; network failures throw whatever the transport threw (callers retry).
import { ReplicationRemoteError } from '../errors.js'
import type { LogPosition } from '../position.js'
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
  /** `busy`: how long to wait before trying again, ms. */
  readonly retryMs: number | undefined
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
  readonly token: string
  readonly transport: Transport
}

const MAX_JSON = 1024 * 1024

export class HomeClient {
  private readonly resolver: HomeResolver
  private readonly auth: Record<string, string>

  constructor(private readonly options: HomeClientOptions) {
    this.resolver =
      typeof options.home === 'string' ? new HomeResolver({ user: options.user, home: options.home }) : options.home
    this.auth = { authorization: `Bearer ${options.token}` }
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
      headers: { ...this.auth, ...extra.headers },
      ...(extra.body === undefined ? {} : { body: extra.body }),
      ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    })
    if (response.status === 401) {
      await drain(response.body)
      throw new ReplicationRemoteError('REPLICATION_AUTH', `the home refused the token for ${this.options.user}`, {
        user: this.options.user,
        home,
      })
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
      retryMs: typeof error?.retryMs === 'number' ? error.retryMs : undefined,
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
    const body = await this.json<{ epoch?: unknown; log?: Record<string, unknown> | null }>(response)
    if (typeof body.epoch !== 'number')
      throw new ReplicationRemoteError('REPLICATION_PROTOCOL', 'log info without epoch')
    if (body.log === null || body.log === undefined) return { epoch: body.epoch, log: null }
    const l = body.log
    const snap = l.snapshot as Record<string, unknown> | null
    return {
      epoch: body.epoch,
      log: {
        logId: String(l.logId),
        head: positionOrNull(l.head, 'head')!,
        start: positionOrNull(l.start, 'start')!,
        snapshot:
          snap === null
            ? null
            : { ...positionOrNull(snap, 'snapshot')!, bytes: Number(snap.bytes), etag: String(snap.etag) },
        pageCommits: Number(l.pageCommits),
        sealedPages: Number(l.sealedPages),
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
    return { ok: true, head: positionOrNull(body.head, 'head')! }
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
    return { ok: true, head: positionOrNull(body.head, 'head') }
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
    const head = parsePositionText(response.headers[HEADERS.head])
    const body = (await readBody(response.body, 1024 * 1024 * 1024)) ?? Buffer.alloc(0)
    return { ok: true, body, head, cursor: response.headers[HEADERS.cursor] ?? '' }
  }

  /** A sealed page of commits. */
  async page(
    logId: string,
    page: number,
    signal?: AbortSignal,
  ): Promise<{ ok: true; body: Uint8Array } | ControlAnswer> {
    const response = await this.send('GET', `/logs/${logId}/pages/${page}`, signal === undefined ? {} : { signal })
    if (response.status !== 200) return this.control(response)
    return { ok: true, body: (await readBody(response.body, 1024 * 1024 * 1024)) ?? Buffer.alloc(0) }
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
