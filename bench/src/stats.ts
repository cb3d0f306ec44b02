// Summary statistics for repeated measurements: the median is the figure, min/max give the spread.

/** The spread of a set of samples around its median. */
export interface Spread {
  readonly min: number
  readonly max: number
  /** (max - min) / median: 0.05 means the samples span 5 % of the median. */
  readonly relative: number
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Min, max and relative range of a non-empty list. */
export function spread(values: readonly number[]): Spread {
  const m = median(values)
  const min = Math.min(...values)
  const max = Math.max(...values)
  return { min, max, relative: m === 0 ? 0 : (max - min) / Math.abs(m) }
}
