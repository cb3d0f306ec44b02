// The options of `openLog`, checked and completed with their defaults before anything is opened: bad options are a
// LogConfigError that touches no file.
import { LogConfigError } from '../errors.js'
import { type FileLayer, nodeFileLayer } from '../file-layer.js'
import type { Durability, OpenLogOptions, Position } from '../types.js'
import { chainFromHex, MAX_FRAME_BODY } from './format.js'
import type { Point } from './positions.js'

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024
const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024
const DEFAULT_KEEP_RECENT_BYTES = 1024 * 1024
const DEFAULT_FOLLOW_INTERVAL_MS = 25
/** Room left in a frame body for its header fields, so that a payload of `maxPayloadBytes` always fits. */
const FRAME_HEADROOM = 64

/** Options of `openLog`, checked and with every default filled in. */
export interface ResolvedOptions {
  readonly durability: Durability
  readonly segmentBytes: number
  /** Bytes a new segment file is given up front: `segmentBytes`, or 0 with `preallocate: false`. */
  readonly preallocateBytes: number
  /** Write batches with a synchronous write on the event loop where inline-writes.ts allows it. */
  readonly inlineWrites: boolean
  /** Bytes of newest batches kept in memory for reads at the head (0: none). */
  readonly keepRecentBytes: number
  readonly maxPayloadBytes: number
  readonly readOnly: boolean
  readonly followIntervalMs: number
  readonly onError: ((error: Error) => void) | undefined
  readonly fs: FileLayer
  /** For a new log: its id (random if undefined) and the position it continues from. */
  readonly create: { readonly logId: string | undefined; readonly start: Point }
  readonly mustExist: boolean
}

/** A boolean option's value, `fallback` if unset; anything else than a boolean is a LogConfigError naming it. */
function booleanOption(name: string, given: unknown, fallback: boolean): boolean {
  const value = given ?? fallback
  if (typeof value !== 'boolean') {
    throw new LogConfigError(`${name} must be a boolean, got ${JSON.stringify(value)}`, { [name]: value })
  }
  return value
}

/** Checks `options` for `dir`; throws LogConfigError naming the first bad one. */
export function resolveOptions(dir: string | undefined, options: OpenLogOptions): ResolvedOptions {
  const durability = options.durability ?? 'fsync'
  if (durability !== 'fsync' && durability !== 'os' && durability !== 'memory') {
    throw new LogConfigError(`durability must be 'fsync', 'os' or 'memory', got ${JSON.stringify(durability)}`, {
      durability,
    })
  }
  if (durability !== 'memory' && (typeof dir !== 'string' || dir === '')) {
    throw new LogConfigError(`durability '${durability}' needs a directory`, { durability })
  }
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1024 || segmentBytes > 2 ** 31) {
    throw new LogConfigError(`segmentBytes must be an integer from 1024 to 2^31, got ${segmentBytes}`, { segmentBytes })
  }
  const preallocate = booleanOption('preallocate', options.preallocate, true)
  const inlineWrites = booleanOption('inlineWrites', options.inlineWrites, true)
  const keepRecentBytes = options.keepRecentBytes ?? DEFAULT_KEEP_RECENT_BYTES
  if (!Number.isSafeInteger(keepRecentBytes) || keepRecentBytes < 0) {
    throw new LogConfigError(`keepRecentBytes must be a non-negative integer, got ${keepRecentBytes}`, {
      keepRecentBytes,
    })
  }
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD
  const maxAllowed = MAX_FRAME_BODY - FRAME_HEADROOM
  if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 0 || maxPayloadBytes > maxAllowed) {
    throw new LogConfigError(`maxPayloadBytes must be an integer from 0 to ${maxAllowed}`, { maxPayloadBytes })
  }
  const followIntervalMs = options.followIntervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS
  if (!(followIntervalMs > 0)) throw new LogConfigError('followIntervalMs must be positive', { followIntervalMs })
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new LogConfigError('onError must be a function', { onError: typeof options.onError })
  }
  return {
    durability,
    segmentBytes,
    preallocateBytes: preallocate ? segmentBytes : 0,
    inlineWrites,
    keepRecentBytes,
    maxPayloadBytes,
    readOnly: options.readOnly ?? false,
    followIntervalMs,
    onError: options.onError,
    fs: options.fileLayer ?? nodeFileLayer,
    create: resolveCreate(options.create),
    mustExist: options.mustExist ?? false,
  }
}

function resolveCreate(create: OpenLogOptions['create']): ResolvedOptions['create'] {
  const logId = create?.logId
  if (logId !== undefined && !/^[0-9a-f]{32}$/.test(logId)) {
    throw new LogConfigError(`create.logId must be 32 lowercase hex digits, got ${JSON.stringify(logId)}`, { logId })
  }
  const start: Position = create?.start ?? { seq: 0, chain: '0000000000000000' }
  if (!Number.isSafeInteger(start.seq) || start.seq < 0) {
    throw new LogConfigError(`create.start.seq must be a non-negative integer, got ${start.seq}`, { seq: start.seq })
  }
  try {
    return { logId, start: { seq: start.seq, chain: chainFromHex(start.chain) } }
  } catch (error) {
    throw new LogConfigError((error as Error).message, { chain: start.chain })
  }
}
