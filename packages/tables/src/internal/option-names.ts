// The refusal of option names a function does not know (`{ dirr: … }`), with the nearest known name as a hint.
import { TablesConfigError } from '../errors.js'

/** Throws `TABLES_CONFIG` naming the first own option of `options` that is not in `known`. */
export function refuseUnknownOptions(options: object, known: readonly string[], fn: string): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue
    const near = known.find((k) => distance(k, name) <= 2)
    throw new TablesConfigError(
      `${fn}() has no option "${name}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; it takes ${known.join(', ')}`,
      { option: name },
    )
  }
}

/** Levenshtein distance of two short strings. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]!
}
