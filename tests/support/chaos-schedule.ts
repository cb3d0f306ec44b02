// Which fault the chaos proxy injects into which request. The decision for the i-th request is a pure function of
// the seed, i and the request head (plus the budget left), drawn from its own generator, so concurrent requests
// cannot shift each other's draws and a failing seed replays the same schedule.
import { seededRng } from '@homedb/testkit'
import { badOption } from './chaos-proxy-error.js'

/** Every kind of fault the proxy can inject, in the order the per-request draw walks them. */
export const FAULT_KINDS = [
  'refuse',
  'drop-response',
  'duplicate',
  'delay',
  'reorder',
  'stall',
  'truncate',
  'cut',
  'partition',
] as const

/** One kind of fault (see `Fault` for what each does). */
export type FaultKind = (typeof FAULT_KINDS)[number]

/** Per-kind probabilities that a request gets that fault; each in [0, 1], together at most 1. */
export type FaultRates = Partial<Record<FaultKind, number>>

/**
 * One injected fault with its drawn parameters. Durations are in clock milliseconds and never exceed the limits.
 * - `refuse`: the client's connection is reset before anything is forwarded.
 * - `drop-response`: forwarded and answered upstream (read to its end), then the client's connection is reset.
 * - `duplicate`: sent upstream twice, one after the other or at once on two connections; the client gets `answer`.
 * - `delay`: held `ms` before forwarding, so later requests overtake it.
 * - `reorder`: held until a later request has its answer from upstream (at most `ms`), then forwarded.
 * - `stall`: the response pauses `ms` before its head, or in its body after the cut point (see `truncate`).
 * - `truncate`: the body is cut at the cut point and the connection closed; the cut point is `fraction` of a known
 *   Content-Length, or `bytes` into a body of unknown length (if that body ends first, its end is withheld).
 *   A response without a body is cut before its head.
 * - `cut`: `ms` after the response head, both connections are reset; a response that ended sooner is withheld.
 * - `partition`: for `ms`, requests and new connections are reset; `oneWay`: requests still reach the server but
 *   every response is lost (the client hears nothing until the partition ends, then a reset).
 */
export type Fault =
  | { readonly kind: 'refuse' }
  | { readonly kind: 'drop-response' }
  | { readonly kind: 'duplicate'; readonly mode: 'sequential' | 'concurrent'; readonly answer: 'first' | 'second' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'reorder'; readonly ms: number }
  | {
      readonly kind: 'stall'
      readonly at: 'head' | 'body'
      readonly fraction: number
      readonly bytes: number
      readonly ms: number
    }
  | { readonly kind: 'truncate'; readonly fraction: number; readonly bytes: number }
  | { readonly kind: 'cut'; readonly ms: number }
  | { readonly kind: 'partition'; readonly ms: number; readonly oneWay: boolean }

/** Bounds on everything the proxy holds: times in clock milliseconds, sizes in bytes. */
export interface ChaosLimits {
  /** Longest `delay` or `reorder` hold, and longest wait for the first copy of a sequential `duplicate`. */
  readonly maxDelayMs: number
  /** Longest `stall`. */
  readonly maxStallMs: number
  /** Longest time from a response head to its `cut`. */
  readonly maxCutMs: number
  /** Longest `partition`. */
  readonly maxPartitionMs: number
  /** Longest time an upstream answer nobody will read (dropped, duplicate, partitioned) is drained before it is cut. */
  readonly maxDrainMs: number
  /** Largest request body buffered for a `duplicate`; larger or chunked bodies stream through untouched. */
  readonly maxBodyBytes: number
  /** Largest cut point drawn for a `truncate` or `stall` of a body whose length is not known. */
  readonly maxCutBytes: number
}

/** The limits used where `startChaosProxy` is given none: short enough for tests that converge in seconds. */
export const DEFAULT_LIMITS: ChaosLimits = {
  maxDelayMs: 200,
  maxStallMs: 300,
  maxCutMs: 200,
  maxPartitionMs: 500,
  maxDrainMs: 2_000,
  maxBodyBytes: 1 << 20,
  maxCutBytes: 64 << 10,
}

/** The fault mix used where `startChaosProxy` is given no rates: 30 % of requests get a fault. */
export const DEFAULT_FAULT_RATES: Readonly<Record<FaultKind, number>> = {
  refuse: 0.04,
  'drop-response': 0.04,
  duplicate: 0.04,
  delay: 0.04,
  reorder: 0.03,
  stall: 0.03,
  truncate: 0.03,
  cut: 0.03,
  partition: 0.02,
}

/** What the proxy knows of a request when it decides: its order of arrival and its head. */
export interface RequestHead {
  /** 0 for the first request the proxy saw, then 1, 2, … */
  readonly index: number
  /** The id of the client connection it came on (0, 1, … in order of accept). */
  readonly connection: number
  readonly method: string
  /** The request target as sent, e.g. `/u/alice/append?x=1`. */
  readonly path: string
  /** The declared Content-Length; `null` without one (no body, or a chunked body). */
  readonly contentLength: number | null
  /** Whether the body is sent with `Transfer-Encoding: chunked` (so its length is unknown). */
  readonly chunked: boolean
}

/** Which one-way mode a drawn `partition` takes. */
export type PartitionMode = 'both' | 'one-way' | 'either'

/** Checks `rates` and returns them complete (unnamed kinds at 0); throws `CHAOS_BAD_OPTIONS` if they are not rates. */
export function checkRates(rates: FaultRates): Readonly<Record<FaultKind, number>> {
  const known = new Set<string>(FAULT_KINDS)
  for (const key of Object.keys(rates)) if (!known.has(key)) throw badOption('faults', key, 'unknown fault kind')
  let sum = 0
  const out = {} as Record<FaultKind, number>
  for (const kind of FAULT_KINDS) {
    const p = rates[kind] ?? 0
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw badOption(`faults.${kind}`, p, 'must be in [0, 1]')
    out[kind] = p
    sum += p
  }
  if (sum > 1 + 1e-9) throw badOption('faults', sum, 'the rates add up to more than 1')
  return out
}

/** Checks `limits` and fills the missing ones from `DEFAULT_LIMITS`. */
export function checkLimits(limits: Partial<ChaosLimits>): ChaosLimits {
  const out = { ...DEFAULT_LIMITS, ...limits }
  for (const [key, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 0) throw badOption(`limits.${key}`, value, 'must be an integer ≥ 0')
  }
  return out
}

/** Mixes the seed with a request index into the seed of that request's own generator. */
function requestSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Whether the request body can be buffered for a duplicate: no body, or a declared one within the bound. */
export function bufferable(head: RequestHead, limits: ChaosLimits): boolean {
  return !head.chunked && (head.contentLength ?? 0) <= limits.maxBodyBytes
}

/**
 * The fault for one request, or `null` for a clean pass: a pure function of its arguments. A `duplicate` drawn for
 * a body that cannot be buffered becomes `null` (oversized bodies stream through untouched).
 */
export function drawFault(
  seed: number,
  head: RequestHead,
  rates: Readonly<Record<FaultKind, number>>,
  limits: ChaosLimits,
  partitionMode: PartitionMode,
): Fault | null {
  const rng = seededRng(requestSeed(seed, head.index))
  const u = rng.next()
  let acc = 0
  let kind: FaultKind | undefined
  for (const k of FAULT_KINDS) {
    acc += rates[k]
    if (u < acc) {
      kind = k
      break
    }
  }
  if (kind === undefined || (kind === 'duplicate' && !bufferable(head, limits))) return null
  const ms = (max: number) => rng.int(Math.min(1, max), max)
  switch (kind) {
    case 'refuse':
    case 'drop-response':
      return { kind }
    case 'duplicate':
      return { kind, mode: rng.chance(0.5) ? 'sequential' : 'concurrent', answer: rng.chance(0.5) ? 'first' : 'second' }
    case 'delay':
    case 'reorder':
      return { kind, ms: ms(limits.maxDelayMs) }
    case 'stall': {
      const at = rng.chance(0.5) ? 'head' : 'body'
      return { kind, at, fraction: rng.next(), bytes: rng.int(0, limits.maxCutBytes), ms: ms(limits.maxStallMs) }
    }
    case 'truncate':
      return { kind, fraction: rng.next(), bytes: rng.int(0, limits.maxCutBytes) }
    case 'cut':
      return { kind, ms: rng.int(0, limits.maxCutMs) }
    case 'partition': {
      const oneWay = partitionMode === 'either' ? rng.chance(0.5) : partitionMode === 'one-way'
      return { kind, ms: ms(limits.maxPartitionMs), oneWay }
    }
  }
}

/** `fault` with every duration and fraction clamped into the limits (a scripted fault stays bounded too). */
export function boundFault(fault: Fault, limits: ChaosLimits): Fault {
  const clamp = (value: number, max: number) => (Number.isFinite(value) ? Math.min(Math.max(0, value), max) : 0)
  const fraction = (value: number) => clamp(value, 0.999_999)
  const bytes = (value: number) => Math.floor(clamp(value, Number.MAX_SAFE_INTEGER))
  switch (fault.kind) {
    case 'delay':
    case 'reorder':
      return { ...fault, ms: clamp(fault.ms, limits.maxDelayMs) }
    case 'stall':
      return {
        ...fault,
        ms: clamp(fault.ms, limits.maxStallMs),
        fraction: fraction(fault.fraction),
        bytes: bytes(fault.bytes),
      }
    case 'truncate':
      return { ...fault, fraction: fraction(fault.fraction), bytes: bytes(fault.bytes) }
    case 'cut':
      return { ...fault, ms: clamp(fault.ms, limits.maxCutMs) }
    case 'partition':
      return { ...fault, ms: clamp(fault.ms, limits.maxPartitionMs) }
    default:
      return fault
  }
}
