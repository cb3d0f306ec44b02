// Human-readable figures for the console and the report.
import type { Unit } from './workload.js'

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

function significant(n: number, digits = 3): string {
  if (n === 0) return '0'
  const magnitude = Math.floor(Math.log10(Math.abs(n)))
  const decimals = Math.max(0, digits - 1 - magnitude)
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

/** Bytes as B / KiB / MiB / GiB with three significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let n = bytes
  let i = 0
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${significant(n)} ${units[i]}`
}

/** A headline figure with its unit, e.g. `123,456 ops/s`, `12.3 ms`, `45.6 MiB`. */
export function formatFigure(unit: Unit, value: number): string {
  switch (unit) {
    case 'opsPerSec':
      return `${value >= 1000 ? grouped.format(value) : significant(value)} ops/s`
    case 'ms':
      return `${significant(value)} ms`
    case 'mbPerSec':
      return `${significant(value)} MB/s`
    case 'bytesPerRow':
      return `${significant(value)} B/row`
    case 'rssBytes':
      return formatBytes(value)
  }
}

/** A short unit label for table headers and chart axes. */
export function unitLabel(unit: Unit): string {
  const labels: Record<Unit, string> = {
    opsPerSec: 'ops/s',
    ms: 'ms',
    mbPerSec: 'MB/s',
    bytesPerRow: 'bytes/row',
    rssBytes: 'RSS',
  }
  return labels[unit]
}

/** A ratio as `1.23×`, or `n/a`. */
export function formatRatio(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${significant(ratio)}×`
}

/** A secondary metric value with three significant digits. */
export function formatNumber(n: number): string {
  return significant(n)
}
