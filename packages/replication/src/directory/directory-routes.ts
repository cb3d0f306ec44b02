// The embedded directory's HTTP protocol as a route table (PROTOCOL.md, "Directory"): lookups are readable with no
// token (or the lookup token, if the directory has one), like DNS MX records; everything else needs the admin token.
// Every answer is `Cache-Control: no-store`: a cached directory answer would send clients to an old home.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { DirectoryEntry } from '../directory.js'
import { isUserName } from '../internal/user-names.js'
import { json, parseJson, readBody, wireError } from '../internal/wire-codec.js'
import type { Route, WireRequest, WireResponse } from '../wire.js'
import type { EmbeddedDirectory } from './embedded-directory.js'

/** Options of {@link directoryRoutes}. */
export interface DirectoryRouteOptions {
  readonly adminToken: string | undefined
  readonly lookupToken: string | undefined
  /** Longest a watcher's long-poll waits, ms. */
  readonly maxWaitMs: number
  /** Ends waiting long-polls when the server stops. */
  readonly shutdown: AbortSignal
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** Constant-time comparison of a bearer token with a secret (false when no secret is configured). */
function bearerIs(request: WireRequest, secret: string | undefined): boolean {
  const header = request.headers.authorization
  const given = header?.startsWith('Bearer ') ? header.slice(7) : ''
  return timingSafeEqual(digest(given), digest(secret ?? '\u0000')) && secret !== undefined && given !== ''
}

function conflict(code: 'conflict' | 'user-exists', message: string, current: DirectoryEntry | undefined) {
  return json(409, { error: { code, message, current: current ?? null } })
}

/** The directory's routes over `store`. */
export function directoryRoutes(store: EmbeddedDirectory, options: DirectoryRouteOptions): Route[] {
  const admin = (r: WireRequest) => bearerIs(r, options.adminToken)
  const refused = () => wireError(401, 'unauthorized', 'the admin token is required')
  const routes: Route[] = [
    { method: 'GET', path: '/healthz', handler: async () => json(options.shutdown.aborted ? 503 : 200, { ok: true }) },
    {
      method: 'GET',
      path: '/v1/directory/users/:user',
      handler: async (r) => {
        if (options.lookupToken !== undefined && !admin(r) && !bearerIs(r, options.lookupToken)) {
          return wireError(401, 'unauthorized', 'the lookup token is required')
        }
        if (!isUserName(r.params.user)) return wireError(400, 'bad-user-name', 'not a valid user name')
        const entry = await store.lookup(r.params.user)
        return entry === undefined ? wireError(404, 'unknown-user', 'the directory has no such user') : json(200, entry)
      },
    },
    { method: 'GET', path: '/v1/directory/users', handler: async (r) => (admin(r) ? list(store) : refused()) },
    {
      method: 'POST',
      path: '/v1/directory/users',
      bodyLimit: 8192,
      handler: async (r) => (admin(r) ? register(store, r) : refused()),
    },
    {
      method: 'POST',
      path: '/v1/directory/users/:user/swap',
      bodyLimit: 8192,
      handler: async (r) => (admin(r) ? swap(store, r) : refused()),
    },
    {
      method: 'GET',
      path: '/v1/directory/changes',
      handler: async (r) => (admin(r) ? changes(store, r, options) : refused()),
    },
    {
      method: 'GET',
      path: '/v1/directory/token-key',
      handler: async (r) => (admin(r) ? json(200, { tokenKey: await store.tokenKey() }) : refused()),
    },
    { method: 'GET', path: '/v1/admin/status', handler: async (r) => (admin(r) ? status(store) : refused()) },
  ]
  return routes
}

async function list(store: EmbeddedDirectory): Promise<WireResponse> {
  return json(200, { revision: store.revision, entries: await store.list() })
}

/** Runs a store call whose input may be refused (REPLICATION_CONFIG / REPLICATION_BAD_USER → 400). */
async function guarded(call: () => Promise<WireResponse>): Promise<WireResponse> {
  try {
    return await call()
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'REPLICATION_BAD_USER') return wireError(400, 'bad-user-name', (error as Error).message)
    if (code === 'REPLICATION_CONFIG') return wireError(400, 'bad-request', (error as Error).message)
    throw error
  }
}

async function body(request: WireRequest): Promise<Record<string, unknown> | undefined> {
  const bytes = await readBody(request.body, 8192)
  const parsed = bytes === undefined ? undefined : parseJson(bytes)
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
}

async function register(store: EmbeddedDirectory, request: WireRequest): Promise<WireResponse> {
  const b = await body(request)
  if (b === undefined) return wireError(400, 'bad-request', 'expected a JSON object { user, home }')
  return guarded(async () => {
    const change = await store.register(b.user as string, b.home as string)
    if (change.ok) return json(201, change.entry)
    return conflict('user-exists', 'the directory already has this user', change.current)
  })
}

async function swap(store: EmbeddedDirectory, request: WireRequest): Promise<WireResponse> {
  const b = await body(request)
  if (b === undefined) return wireError(400, 'bad-request', 'expected a JSON object { expectedEpoch, next }')
  return guarded(async () => {
    const change = await store.compareAndSet(
      request.params.user ?? '',
      b.expectedEpoch as number,
      b.next as DirectoryEntry,
    )
    if (change.ok) return json(200, change.entry)
    return conflict('conflict', 'the entry is not at the expected homeEpoch', change.current)
  })
}

async function changes(
  store: EmbeddedDirectory,
  request: WireRequest,
  options: DirectoryRouteOptions,
): Promise<WireResponse> {
  const after = Number(request.query.after ?? '-1')
  if (!Number.isSafeInteger(after) || after < -1) return wireError(400, 'bad-request', 'after must be an integer')
  if (after === -1) return json(200, { revision: store.revision, reset: false, entries: [] })
  const wait = Math.min(Math.max(0, Number(request.query.wait ?? 0) || 0), options.maxWaitMs)
  let answer = await store.changesAfter(after)
  const signal = AbortSignal.any([request.signal, options.shutdown])
  if (answer.entries.length === 0 && !answer.reset && wait > 0 && !signal.aborted) {
    await store.waitForChange(wait, signal)
    answer = await store.changesAfter(after)
  }
  return json(200, answer)
}

async function status(store: EmbeddedDirectory): Promise<WireResponse> {
  const entries = await store.list()
  return json(200, {
    kind: 'directory',
    revision: store.revision,
    users: entries.length,
    moving: entries.filter((e) => e.state === 'moving'),
    entries,
  })
}
