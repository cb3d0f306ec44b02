// plain(value): deep copies of what a db hands out, with its read-only views turned back into Maps and Sets, so the
// tests of every package compare them with `toEqual` as Maps and Sets (unordered) and see their contents on failure.

const isMapLike = (v: object): v is ReadonlyMap<unknown, unknown> =>
  v instanceof Map || Object.prototype.toString.call(v) === '[object ReadonlyMap]'
const isSetLike = (v: object): v is ReadonlySet<unknown> =>
  v instanceof Set || Object.prototype.toString.call(v) === '[object ReadonlySet]'

/** `value` with every Map or Set (views included) as a new Map or Set, arrays and plain objects copied deeply. */
export function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(plain)
  if (isMapLike(value)) return new Map([...value].map(([k, v]) => [k, plain(v)]))
  if (isSetLike(value)) return new Set(value)
  if (Object.getPrototypeOf(value) !== Object.prototype) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
}
