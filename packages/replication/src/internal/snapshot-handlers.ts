// Snapshots on the home: the writer uploads its latest snapshot after a compaction (stored with `log.snapshot`,
// which releases segments per retention) or, when the home's head is older than the writer's log start, as the new
// base of the user's log: built beside in a new generation directory, then switched to by one durable meta
// commit, so a crash at any step leaves either the old log or the new one (PROTOCOL.md, "Snapshots").
import { join } from 'node:path'
import { type Log, LogSnapshotError, openLog } from '@homedb/log'
import { Xxh64 } from '@node-rs/xxhash'
import { headPosition, type LogPosition, relatePosition } from '../position.js'
import { CONTENT_TYPES, HEADERS, type WireRequest, type WireResponse } from '../wire.js'
import { decodeChunks, encodeChunks } from './chunk-stream.js'
import { authUser, durableOf, type HomeContext, markDurable, userLogDir } from './home-context.js'
import { leased } from './leased-stream.js'
import type { StoredSnapshot, UserRecord } from './meta-store.js'
import { enforceCaps } from './retention.js'
import { snapshotEtag } from './snapshot-record.js'
import { writeRefusal } from './user-gate.js'
import { formatPosition, json, parseEpoch, parsePositionText, wireError } from './wire-codec.js'

interface Upload {
  readonly user: string
  readonly position: LogPosition
  readonly epoch: number
  readonly replaces: string | undefined
  readonly chunks: Buffer[]
  readonly stored: Omit<StoredSnapshot, keyof LogPosition>
}

async function parseUpload(ctx: HomeContext, request: WireRequest): Promise<Upload | WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  let position: LogPosition
  try {
    position = parsePositionText(request.headers[HEADERS.position])
  } catch (error) {
    return wireError(400, 'bad-request', `${HEADERS.position}: ${(error as Error).message}`)
  }
  const epoch = parseEpoch(request.headers[HEADERS.epoch])
  if (!Number.isSafeInteger(epoch) || epoch < 1) return wireError(400, 'bad-request', `${HEADERS.epoch} missing or bad`)
  const chunks: Buffer[] = []
  const hash = new Xxh64()
  let bytes = 0
  try {
    for await (const chunk of decodeChunks(request.body, ctx.options.maxSnapshotBytes)) {
      hash.update(chunk)
      chunks.push(Buffer.from(chunk))
      bytes += chunk.byteLength
    }
  } catch (error) {
    const tooLarge = /over \d+ bytes/.test((error as Error).message)
    return wireError(tooLarge ? 413 : 400, tooLarge ? 'too-large' : 'bad-request', (error as Error).message)
  }
  const etag = snapshotEtag(hash, bytes)
  return {
    user: auth.user,
    position,
    epoch,
    replaces: request.headers[HEADERS.replaces],
    chunks,
    stored: { bytes, etag },
  }
}

/** PUT /v1/users/:user/snapshot */
export async function handleSnapshotPut(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const upload = await parseUpload(ctx, request)
  if (!('chunks' in upload)) return upload
  return ctx.mutex.run(upload.user, () => storeLocked(ctx, upload))
}

async function storeLocked(ctx: HomeContext, upload: Upload): Promise<WireResponse> {
  const { user, position } = upload
  const record = ctx.meta.user(user)!
  const refused = writeRefusal(record)
  if (refused !== undefined) return refused
  if (upload.epoch !== record.epoch) {
    return wireError(409, 'stale-epoch', `this home serves ${user} under homeEpoch ${record.epoch}`, {
      epoch: record.epoch,
    })
  }
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  if (lease === undefined) {
    if (upload.replaces !== undefined && upload.replaces !== 'none') {
      return wireError(409, 'conflict', 'the home holds no log for this user', { head: null })
    }
    return install(ctx, upload, record, false)
  }
  let installBase = false
  try {
    const log = lease.log
    const head = durableOf(ctx, log)
    const extra = { head, start: { logId: log.logId, ...log.start } }
    if (position.logId !== log.logId) return wireError(409, 'incompatible', 'the home holds another log', extra)
    const relation = await relatePosition(log, position)
    if (relation === 'diverged')
      return wireError(409, 'diverged', 'the snapshot is not of the home\u2019s history', extra)
    if (relation === 'same' || relation === 'behind') return await store(ctx, upload, record, log)
    if (upload.replaces !== formatPosition(head)) {
      return wireError(409, 'conflict', 'the home\u2019s head is not the one the new base replaces', extra)
    }
    installBase = true
  } finally {
    lease.release()
  }
  return installBase ? install(ctx, upload, record, true) : wireError(500, 'internal', 'unreachable')
}

async function store(ctx: HomeContext, upload: Upload, record: UserRecord, log: Log): Promise<WireResponse> {
  const { position } = upload
  // Read again: opening the log may have recorded its latest snapshot (snapshot-record.ts).
  const known = ctx.meta.user(upload.user)?.snapshot ?? record.snapshot
  if (known !== null && known.logId === log.logId && known.seq >= position.seq) {
    return json(200, { stored: false, snapshot: known })
  }
  await enforceCaps(ctx, upload.user, log)
  try {
    await log.snapshot(upload.chunks, position.seq)
  } catch (error) {
    if (error instanceof LogSnapshotError) return json(200, { stored: false, snapshot: known })
    if (log.failure !== undefined) ctx.cache.fail(upload.user, log.failure)
    else ctx.cache.invalidate(upload.user)
    return wireError(500, 'internal', `storing the snapshot failed: ${(error as Error).message}`)
  }
  const snapshot: StoredSnapshot = { ...position, ...upload.stored }
  await ctx.meta.updateUser(upload.user, { snapshot })
  return json(200, { stored: true, snapshot, head: headPosition(log) })
}

/** Builds generation `record.generation + 1` from the snapshot, then switches to it with one meta commit. */
async function install(
  ctx: HomeContext,
  upload: Upload,
  record: UserRecord,
  replacing: boolean,
): Promise<WireResponse> {
  const generation = record.generation + 1
  const dir = userLogDir(ctx, upload.user, generation)
  await emptyDir(ctx, dir)
  const log = await openLog(dir, {
    durability: 'fsync',
    preallocate: false, // as every log of a home (log-cache.ts)
    keepRecentBytes: 0,
    fileLayer: ctx.fs,
    create: { logId: upload.position.logId, start: { seq: upload.position.seq, chain: upload.position.chain } },
    maxPayloadBytes: ctx.options.maxFrameBytes,
  })
  try {
    await log.snapshot(upload.chunks, upload.position.seq)
  } finally {
    await log.close()
  }
  const snapshot: StoredSnapshot = { ...upload.position, ...upload.stored }
  const superseded = replacing ? [...record.superseded, record.generation] : record.superseded
  await ctx.meta.updateUser(upload.user, { generation, superseded, snapshot })
  ctx.cache.invalidate(upload.user)
  const lease = await ctx.cache.acquire(upload.user, dir)
  if (lease !== undefined) {
    markDurable(ctx, upload.user, lease.log)
    lease.release()
  }
  return json(200, { stored: true, base: true, snapshot, head: upload.position })
}

/** A generation directory left by a crashed install is emptied before it is built again. */
async function emptyDir(ctx: HomeContext, dir: string): Promise<void> {
  if ((await ctx.fs.size(dir)) === undefined) return
  for (const name of await ctx.fs.readdir(dir)) await ctx.fs.unlink(join(dir, name))
  await ctx.fs.syncDir(dir)
}

/** GET /v1/users/:user/logs/:logId/snapshots/:seq — the latest stored snapshot, immutable while it is the latest. */
export async function handleSnapshotGet(ctx: HomeContext, request: WireRequest): Promise<WireResponse> {
  const auth = authUser(ctx, request)
  if ('answer' in auth) return auth.answer
  const { user, record } = auth
  const wanted = record.snapshot
  if (wanted === null || wanted.logId !== request.params.logId || String(wanted.seq) !== request.params.seq) {
    return wireError(404, 'gone', 'that snapshot is not the latest any more: read the log info again')
  }
  const cache = `${ctx.options.publicSegments ? 'public' : 'private'}, max-age=31536000, immutable`
  const headers = { etag: wanted.etag, 'cache-control': cache, 'content-type': CONTENT_TYPES.snapshot }
  if (request.headers['if-none-match'] === wanted.etag) return { status: 304, headers }
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  const snapshot = await lease?.log.latestSnapshot().catch(() => undefined)
  if (lease === undefined || snapshot === undefined || snapshot.seq !== wanted.seq) {
    lease?.release()
    return wireError(404, 'gone', 'that snapshot is not the latest any more: read the log info again')
  }
  return { status: 200, headers, body: leased(encodeChunks(snapshot.chunks()), () => lease.release()) }
}
