// A Directory over HTTP: the client of the embedded directory server (PROTOCOL.md, "Directory"). Lookups carry the
// lookup token if one is given; everything else the admin token. Watching is a long-poll loop on the changes
// endpoint that resumes from the last revision it saw and backs off on errors.
import { type Clock, systemClock } from '../clock.js'
import type {
  Directory,
  DirectoryChange,
  DirectoryEntry,
  DirectoryUpdate,
  DirectoryWatchOptions,
} from '../directory.js'
import { DirectoryError } from '../homing-errors.js'
import { httpTransport } from '../http-transport.js'
import { Backoff, DEFAULT_RETRY } from '../internal/backoff.js'
import { checkUserName } from '../internal/user-names.js'
import { readBody } from '../internal/wire-codec.js'
import { cryptoRandom, type Random } from '../random.js'
import type { Transport } from '../transport.js'
import { checkHomeUrl, checkSwap, parseEntry } from './entry-codec.js'

/** Options of the HTTP directory client. */
export interface HttpDirectoryOptions {
  readonly url: string
  readonly adminToken?: string
  readonly lookupToken?: string
  readonly transport?: Transport
  readonly clock?: Clock
  readonly random?: Random
  /** How long a watch's long-poll waits at the server, ms (default 20 000). */
  readonly watchWaitMs?: number
}

const MAX_JSON = 64 * 1024 * 1024

export class HttpDirectory implements Directory {
  private readonly base: string
  private readonly transport: Transport
  private readonly ownsTransport: boolean
  private readonly stops = new Set<() => void>()

  constructor(private readonly options: HttpDirectoryOptions) {
    this.base = checkHomeUrl(options.url, 'the directory')
    this.transport = options.transport ?? httpTransport({ timeoutMs: (options.watchWaitMs ?? 20_000) + 30_000 })
    this.ownsTransport = options.transport === undefined
  }

  /** Sends a request; network failures and unexpected answers become REPLICATION_DIRECTORY errors. */
  private async call(
    method: 'GET' | 'POST',
    path: string,
    token: string | undefined,
    payload?: unknown,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    let status: number
    let bytes: Buffer | undefined
    try {
      const response = await this.transport.request({
        method,
        url: `${this.base}${path}`,
        headers,
        ...(payload === undefined ? {} : { body: Buffer.from(JSON.stringify(payload)) }),
        ...(signal === undefined ? {} : { signal }),
      })
      status = response.status
      bytes = await readBody(response.body, MAX_JSON)
    } catch (cause) {
      throw new DirectoryError('REPLICATION_DIRECTORY', `the directory at ${this.base} did not answer`, {
        directory: this.base,
        cause: (cause as Error)?.message,
      })
    }
    let body: Record<string, unknown>
    try {
      body = JSON.parse((bytes ?? Buffer.alloc(0)).toString('utf8')) as Record<string, unknown>
    } catch {
      throw this.refusal(status, {}, path)
    }
    return { status, body }
  }

  private refusal(status: number, body: Record<string, unknown>, path: string): DirectoryError {
    const error = (body.error ?? {}) as { code?: string; message?: string }
    return new DirectoryError(
      'REPLICATION_DIRECTORY',
      `the directory refused ${path}: ${status} ${error.code ?? ''} ${error.message ?? ''}`.trim(),
      { directory: this.base, status, wire: error.code },
    )
  }

  async lookup(user: string): Promise<DirectoryEntry | undefined> {
    checkUserName(user)
    const token = this.options.lookupToken ?? this.options.adminToken
    const path = `/v1/directory/users/${user}`
    const { status, body } = await this.call('GET', path, token)
    if (status === 200) return parseEntry(body, 'the directory')
    if (status === 404 && (body.error as { code?: string } | undefined)?.code === 'unknown-user') return undefined
    throw this.refusal(status, body, path)
  }

  async register(user: string, home: string): Promise<DirectoryChange> {
    checkUserName(user)
    const path = '/v1/directory/users'
    const answer = await this.call('POST', path, this.options.adminToken, { user, home: checkHomeUrl(home) })
    return this.change(answer, path)
  }

  async compareAndSet(user: string, expectedEpoch: number, next: DirectoryUpdate): Promise<DirectoryChange> {
    const update = checkSwap(user, expectedEpoch, next)
    const path = `/v1/directory/users/${user}/swap`
    return this.change(await this.call('POST', path, this.options.adminToken, { expectedEpoch, next: update }), path)
  }

  private change(answer: { status: number; body: Record<string, unknown> }, path: string): DirectoryChange {
    const { status, body } = answer
    if (status === 200 || status === 201) return { ok: true, entry: parseEntry(body, 'the directory') }
    const error = body.error as { code?: string; current?: unknown } | undefined
    if (status === 409 && (error?.code === 'conflict' || error?.code === 'user-exists')) {
      const current = error.current === null || error.current === undefined ? undefined : error.current
      return { ok: false, current: current === undefined ? undefined : parseEntry(current, 'the directory') }
    }
    throw this.refusal(status, body, path)
  }

  async list(): Promise<DirectoryEntry[]> {
    const path = '/v1/directory/users'
    const { status, body } = await this.call('GET', path, this.options.adminToken)
    if (status !== 200 || !Array.isArray(body.entries)) throw this.refusal(status, body, path)
    return body.entries.map((e) => parseEntry(e, 'the directory'))
  }

  async tokenKey(): Promise<string> {
    const path = '/v1/directory/token-key'
    const { status, body } = await this.call('GET', path, this.options.adminToken)
    if (status !== 200 || typeof body.tokenKey !== 'string') throw this.refusal(status, body, path)
    return body.tokenKey
  }

  watch(listener: (entry: DirectoryEntry) => void, options: DirectoryWatchOptions = {}): () => void {
    const stop = new AbortController()
    const end = () => stop.abort()
    this.stops.add(end)
    void this.watchLoop(listener, options, stop.signal)
    return () => {
      this.stops.delete(end)
      end()
    }
  }

  private async watchLoop(
    listener: (entry: DirectoryEntry) => void,
    options: DirectoryWatchOptions,
    signal: AbortSignal,
  ): Promise<void> {
    const clock = this.options.clock ?? systemClock
    const backoff = new Backoff({ ...DEFAULT_RETRY, maxMs: 2_000 }, this.options.random ?? cryptoRandom)
    const wait = this.options.watchWaitMs ?? 20_000
    let revision = -1
    while (!signal.aborted) {
      try {
        const path = `/v1/directory/changes?after=${revision}&wait=${revision === -1 ? 0 : wait}`
        const { status, body } = await this.call('GET', path, this.options.adminToken, undefined, signal)
        if (status !== 200 || typeof body.revision !== 'number' || !Array.isArray(body.entries)) {
          throw this.refusal(status, body, path)
        }
        revision = body.revision
        backoff.reset()
        for (const e of body.entries) if (!signal.aborted) listener(parseEntry(e, 'the directory'))
      } catch (error) {
        if (signal.aborted) return
        options.onError?.(error)
        await clock.sleep(backoff.next(), signal)
      }
    }
  }

  async close(): Promise<void> {
    for (const stop of [...this.stops]) stop()
    this.stops.clear()
    if (this.ownsTransport) this.transport.close?.()
  }
}
