// How the operator page shows a stored value: JSON-like text (strings quoted, bigints as `12n`, dates as
// `Date(…)`, bytes as their length and first bytes in hex, sets and maps by their entries), cut at a bound of
// characters and of depth, so a huge or deeply nested value costs the server and the page no more than the bound.
// The page puts this text into the DOM as text, never as markup.

/** Characters of one value's preview at most (then `…`). */
export const PREVIEW_CHARS = 2_000
/** Nesting shown at most (deeper containers are shown as `[…]`, `{…}`). */
const MAX_DEPTH = 12

class Budget {
  readonly parts: string[] = []
  left: number

  constructor(chars: number) {
    this.left = chars
  }

  /** Adds `text`; false once the budget is spent (what did not fit is cut and `…` added). */
  put(text: string): boolean {
    if (this.left <= 0) return false
    if (text.length > this.left) {
      this.parts.push(`${text.slice(0, this.left)}…`)
      this.left = 0
      return false
    }
    this.parts.push(text)
    this.left -= text.length
    return true
  }
}

function leaf(value: unknown): string | undefined {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'boolean') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`
  if (value instanceof Uint8Array) {
    const head = Buffer.from(value.subarray(0, 16)).toString('hex')
    return `<${value.byteLength} bytes${value.byteLength === 0 ? '' : ` ${head}${value.byteLength > 16 ? '…' : ''}`}>`
  }
  if (typeof value !== 'object') return String(value)
  return undefined
}

/** Writes the entries of a container between `open` and `close`, as far as the budget goes. */
function entries(
  budget: Budget,
  open: string,
  close: string,
  items: Iterable<readonly [string | undefined, unknown]>,
  depth: number,
): boolean {
  if (!budget.put(open)) return false
  let first = true
  for (const [label, value] of items) {
    if (!budget.put(first ? '' : ', ')) return false
    first = false
    if (label !== undefined && !budget.put(label)) return false
    if (!write(budget, value, depth + 1)) return false
  }
  return budget.put(close)
}

/** The entries of a container, made one at a time (a huge one is never copied: the budget stops early). */
function* labelled<T>(items: Iterable<T>, label: (item: T) => readonly [string | undefined, unknown]) {
  for (const item of items) yield label(item)
}

const item = (v: unknown) => [undefined, v] as const

function write(budget: Budget, value: unknown, depth: number): boolean {
  const text = leaf(value)
  if (text !== undefined) return budget.put(text)
  if (depth >= MAX_DEPTH) return budget.put(Array.isArray(value) ? '[…]' : '{…}')
  if (Array.isArray(value)) return entries(budget, '[', ']', labelled(value, item), depth)
  if (value instanceof Set) return entries(budget, 'Set {', '}', labelled(value, item), depth)
  if (value instanceof Map) {
    const pairs = labelled(value as Map<unknown, unknown>, ([k, v]) => [`${leaf(k) ?? String(k)} => `, v] as const)
    return entries(budget, 'Map {', '}', pairs, depth)
  }
  const object = value as Record<string, unknown>
  const fields = labelled(Object.keys(object), (k) => [`${JSON.stringify(k)}: `, object[k]] as const)
  return entries(budget, '{', '}', fields, depth)
}

/**
 * A value as the page shows it, at most `chars` characters (then `…`).
 *
 * @example
 * ```ts
 * preview({ name: '<script>', size: 12n }) // -> '{"name": "<script>", "size": 12n}'
 * ```
 */
export function preview(value: unknown, chars = PREVIEW_CHARS): string {
  const budget = new Budget(chars)
  write(budget, value, 0)
  return budget.parts.join('')
}
