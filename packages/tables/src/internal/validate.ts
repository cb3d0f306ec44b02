// Checks keys and values before a mutation touches anything, and deep-freezes accepted values, in one walk.
// The rule it enforces: a value is accepted only if the codec (codec.ts) gives back an equal value after replay.
import { TablesInputError } from '../errors.js'
import type { Key } from '../key.js'

/** Deepest nesting accepted, so neither this walk nor msgpackr can overflow the stack. */
export const MAX_DEPTH = 1000

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const arrayProto = Array.prototype
const objectProto = Object.prototype
const dateProto = Date.prototype
const uint8Proto = Uint8Array.prototype
const bufferProto: object | undefined = globalThis.Buffer?.prototype

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/** Thrown inside the walk; turned into a TablesInputError with the path at the top. */
class Invalid {
  readonly path: (string | number)[] = []
  constructor(readonly reason: string) {}
}

/** The state of one walk. */
interface Walk {
  /** Objects accepted so far, frozen only once the whole value is accepted (bad input changes nothing). */
  readonly toFreeze: object[]
  /** Objects on the path from the root to the one being walked, to detect cycles. */
  readonly ancestors: object[]
}

/**
 * The walk every check uses, allocated once. A check that starts while it is in use (a getter in a value that
 * writes to the db while being read) gets a walk of its own, so the outer one is not disturbed.
 */
const shared: Walk = { toFreeze: [], ancestors: [] }
let sharedInUse = false

/** Where a value is being stored, for error messages and context. */
export interface ValueSite {
  readonly table: string
  readonly key?: unknown
  readonly key2?: unknown
}

/**
 * Checks a key (of a keyed table, a lookupMap's second key, or a lookupSet member): a string without lone
 * surrogates, or a finite number. Returns it with `-0` turned into `0` (a Map does the same).
 */
export function checkKey(key: unknown, table: string, what: 'key' | 'key2' | 'member' = 'key'): Key {
  if (typeof key === 'string') {
    if (wellFormed(key)) return key
    throw invalidKey(table, what, key, 'contains a lone surrogate (it would not survive UTF-8 encoding)')
  }
  if (typeof key === 'number') {
    if (Number.isFinite(key)) return key === 0 ? 0 : key
    throw invalidKey(table, what, key, 'is not a finite number')
  }
  throw invalidKey(table, what, key, `is ${describe(key)}, not a string or a finite number`)
}

function invalidKey(table: string, what: string, key: unknown, reason: string): TablesInputError {
  const shown =
    typeof key === 'string'
      ? JSON.stringify(key)
      : typeof key === 'symbol'
        ? key.toString()
        : typeof key === 'object' && key !== null
          ? Object.prototype.toString.call(key)
          : String(key)
  return new TablesInputError('TABLES_INVALID_KEY', `table "${table}": ${what} ${shown} ${reason}`, {
    table,
    [what]: key,
    keyType: key === null ? 'null' : typeof key,
  })
}

/**
 * Checks that `value` can be stored: it round-trips through the codec unchanged. Then, if `freeze`, deep-freezes it.
 * Throws a TablesInputError (`TABLES_INVALID_VALUE`) naming the table, key and the path inside the value;
 * on error nothing has been frozen.
 */
export function acceptValue(value: unknown, freeze: boolean, site: ValueSite): void {
  if (value === undefined)
    throw invalidValue(site, '$', 'is undefined: undefined is allowed only inside objects and arrays')
  if (typeof value !== 'object' || value === null) {
    const reason = primitiveProblem(value)
    if (reason !== undefined) throw invalidValue(site, '$', reason)
    return
  }
  const owner = !sharedInUse
  const state: Walk = owner ? shared : { toFreeze: [], ancestors: [] }
  sharedInUse = true
  const toFreeze = state.toFreeze
  try {
    walk(value, 0, toFreeze, state.ancestors)
    if (freeze) for (let i = 0; i < toFreeze.length; i++) Object.freeze(toFreeze[i])
  } catch (error) {
    toFreeze.length = 0
    state.ancestors.length = 0
    if (owner) sharedInUse = false
    if (error instanceof Invalid) throw invalidValue(site, formatPath(error.path), error.reason)
    if (error instanceof RangeError) throw invalidValue(site, '$', `could not be walked: ${error.message}`)
    throw error
  }
  // A walk that succeeded left `ancestors` empty (each object leaves it as it is done).
  toFreeze.length = 0
  if (owner) sharedInUse = false
}

/** Deep-freezes a value decoded from the log (already known valid). Typed arrays cannot be frozen and are skipped. */
export function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  if (value instanceof Uint8Array) return
  Object.freeze(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i])
  } else if (!(value instanceof Date)) {
    for (const k in value) deepFreeze((value as Record<string, unknown>)[k])
  }
}

/** Why a primitive (non-object) value cannot be stored, or `undefined` if it can. */
function primitiveProblem(v: unknown): string | undefined {
  if (v === null) return undefined
  switch (typeof v) {
    case 'string':
      return wellFormed(v) ? undefined : 'is a string with a lone surrogate (it would not survive UTF-8 encoding)'
    case 'number':
      return v === 0 && 1 / v < 0 ? 'is -0, which the codec stores as 0 (normalise it, e.g. `x || 0`)' : undefined
    case 'boolean':
    case 'undefined':
      return undefined
    case 'bigint':
      return v >= INT64_MIN && v <= INT64_MAX ? undefined : 'is a bigint outside the int64 range'
    case 'function':
      return 'is a function'
    case 'symbol':
      return 'is a symbol'
    default:
      return `is ${describe(v)}`
  }
}

function visit(v: unknown, depth: number, toFreeze: object[], ancestors: object[]): void {
  if (typeof v === 'object') {
    if (v !== null) walk(v, depth + 1, toFreeze, ancestors)
    return
  }
  const reason = primitiveProblem(v)
  if (reason !== undefined) throw new Invalid(reason)
}

/** Walks one object of the value (`toFreeze` and `ancestors`: the state of the check, see {@link Walk}). */
function walk(v: object, depth: number, toFreeze: object[], ancestors: object[]): void {
  if (depth > MAX_DEPTH) throw new Invalid(`is nested deeper than ${MAX_DEPTH} levels`)
  const proto = Object.getPrototypeOf(v)
  if (proto === objectProto || proto === null) {
    enter(v, ancestors)
    const keys = Object.keys(v)
    let key = ''
    try {
      for (let i = 0; i < keys.length; i++) {
        key = keys[i]!
        if (key === '__proto__') throw new Invalid('has an own "__proto__" key, which msgpackr renames on decode')
        if (!wellFormed(key)) throw new Invalid('has a property name with a lone surrogate')
        visit((v as Record<string, unknown>)[key], depth, toFreeze, ancestors)
      }
    } catch (error) {
      if (error instanceof Invalid) error.path.push(key)
      throw error
    }
    ancestors.pop()
    toFreeze.push(v)
  } else if (proto === arrayProto) {
    enter(v, ancestors)
    const a = v as unknown[]
    let i = 0
    try {
      for (; i < a.length; i++) {
        const x = a[i]
        if (x === undefined) {
          if (!(i in a)) throw new Invalid('is a hole in a sparse array (it would come back as undefined)')
        } else visit(x, depth, toFreeze, ancestors)
      }
    } catch (error) {
      if (error instanceof Invalid) error.path.push(i)
      throw error
    }
    ancestors.pop()
    toFreeze.push(v)
  } else if (proto === dateProto) {
    toFreeze.push(v)
  } else if (proto === uint8Proto || (bufferProto !== undefined && proto === bufferProto)) {
    // Typed arrays with elements cannot be frozen; they are stored as msgpack bin and come back as Buffers.
  } else {
    throw new Invalid(`is ${describe(v)}; only plain objects, arrays, Date and Uint8Array are stored`)
  }
}

function enter(v: object, ancestors: object[]): void {
  if (ancestors.includes(v)) throw new Invalid('is a cycle (it refers to an object that contains it)')
  ancestors.push(v)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'object') {
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name
    return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with an unusual prototype'
  }
  return `a ${typeof v}`
}

function formatPath(reversed: readonly (string | number)[]): string {
  let path = '$'
  for (let i = reversed.length - 1; i >= 0; i--) {
    const seg = reversed[i]!
    path +=
      typeof seg === 'number' ? `[${seg}]` : /^[A-Za-z_$][\w$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`
  }
  return path
}

function invalidValue(site: ValueSite, path: string, reason: string): TablesInputError {
  const where =
    site.key2 !== undefined
      ? `, key ${show(site.key)}, key2 ${show(site.key2)}`
      : site.key !== undefined
        ? `, key ${show(site.key)}`
        : ''
  const context: Record<string, unknown> = { table: site.table, path }
  if (site.key !== undefined) context.key = site.key
  if (site.key2 !== undefined) context.key2 = site.key2
  return new TablesInputError(
    'TABLES_INVALID_VALUE',
    `table "${site.table}"${where}: value at ${path} ${reason}`,
    context,
  )
}

function show(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : String(k)
}
