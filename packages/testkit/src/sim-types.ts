// The public vocabulary of the simulated file system (sim-fs.ts): its operations and calls, faults, crash modes
// and reports, and how to recognise the errors it throws.
import type { OpenMode } from './file-layer-shape.js'

/** Every operation the simulator counts and can fail. `size` is both `FileLayer.size(path)` and a handle's `size()`. */
export const SIM_OPS = [
  'open',
  'read',
  'write',
  'datasync',
  'sync',
  'truncate',
  'size',
  'readdir',
  'mkdir',
  'rename',
  'unlink',
  'syncDir',
] as const
/** One of {@link SIM_OPS}. */
export type SimOp = (typeof SIM_OPS)[number]

/** A call as fault matchers see it. */
export interface SimCall {
  readonly op: SimOp | 'close'
  readonly path: string
  readonly mode?: OpenMode
  readonly to?: string
  readonly position?: number
  readonly length?: number
  /** `open`: the handle asked for, and got, durable writes; `write`: a write of such a handle. */
  readonly dsync?: boolean
}

/** An injectable I/O error code. */
export type SimErrorCode = 'EIO' | 'ENOSPC'

/** A fault to inject: fail the `nth` matching call (counted from arming) with `code`. */
export interface SimFaultSpec {
  op: SimOp
  /** 1 = the next matching call. */
  nth: number
  code: SimErrorCode
  /** Only calls for which this is true count. */
  when?: (call: SimCall) => boolean
  /** `write` only: part of the bytes land before the error (a short write). */
  torn?: boolean
  /** `datasync`/`sync` only: the failed sync drops the file's dirty data (it will never be durable). */
  loseDirty?: boolean
}

/** A fault that fired. */
export interface FiredFault {
  readonly spec: SimFaultSpec
  readonly call: SimCall
  /** Global call number at which it fired. */
  readonly at: number
  /** Where the call came from (for failure reports). */
  readonly stack: string
}

/** How unsynced data survives a crash; see the file header. */
export type CrashMode = 'drop' | 'keep-all' | 'subset' | 'torn' | 'sectors'
/** Every crash mode. */
export const CRASH_MODES: readonly CrashMode[] = ['drop', 'keep-all', 'subset', 'torn', 'sectors']

/** What a boot did with a leftover `LOCK` file. */
export type LockOnBoot = 'absent' | 'removed' | 'stale-start-time' | 'torn'

/** One flipped bit of durable data. */
export interface BitFlip {
  readonly path: string
  readonly offset: number
  readonly bit: number
}

/** What a crash did. */
export interface CrashReport {
  readonly mode: CrashMode
  /** Unsynced data operations (writes, truncates) that survived, and those that did not. */
  readonly keptDataOps: number
  readonly droppedDataOps: number
  /** Unsynced directory operations that survived, and those that did not. */
  readonly keptDirOps: number
  readonly droppedDirOps: number
  /** Writes cut at a byte (torn mode). */
  readonly tornWrites: number
  /** Durable bits flipped (media corruption); empty in most crashes. */
  readonly flips: readonly BitFlip[]
  readonly lock: LockOnBoot
}

/** Options of {@link SimFs.crash}. */
export interface CrashOptions {
  /** Probability that this crash also flips 1–3 bits of durable segment/snapshot data. Default 0. */
  flipProbability?: number
  /** Which files may receive bit flips. Default: segment and snapshot files. */
  flipTarget?: (path: string) => boolean
}

/** Marks errors thrown because the simulated machine lost power. */
export const SIM_CRASHED = 'SIM_CRASHED'

/** The error node:fs would throw with `code`, for `call`. */
export function fsError(code: string, message: string, call: SimCall): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}, ${call.op} '${call.path}'`)
  error.code = code
  error.syscall = call.op
  error.path = call.path
  return error
}

/** Marks errors thrown by an armed fault. */
export const SIM_INJECTED = 'SIM_INJECTED'

/** True if `error` (or an error in its `cause` chain) was thrown by an armed fault. */
export function isInjected(error: unknown): boolean {
  return causeChainHas(error, SIM_INJECTED)
}

/** True if `error` (or an error in its `cause` chain) was thrown by a simulated file system after its power was cut. */
export function isSimCrash(error: unknown): boolean {
  return causeChainHas(error, SIM_CRASHED)
}

/** True if `error` or an error in its `cause` chain carries `marker`. */
function causeChainHas(error: unknown, marker: string): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if ((e as { simulated?: string }).simulated === marker) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/** Counters of a simulated file system (and of every instance booted from it). */
export interface SimCounters {
  /** Calls per operation. */
  readonly calls: Record<SimOp, number>
  /** Every call, any operation. */
  total: number
  /** The largest buffer a read asked to fill (a stand-in for the largest allocation made to read a file). */
  maxReadLength: number
}
