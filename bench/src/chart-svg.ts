// Renders one workload's figures as a self-contained horizontal bar chart (SVG, no dependencies),
// with min–max whiskers and "n/a" rows for systems that exceeded their cap or failed.
import { formatFigure, unitLabel } from './format.js'
import type { SystemResult, WorkloadMeta } from './result-file.js'

const WIDTH = 760
const LABEL_WIDTH = 160
const VALUE_WIDTH = 150
const ROW = 30
const TOP = 44
const BOTTOM = 34
const BAR_AREA = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

function colour(system: string): string {
  if (system.startsWith('homedb')) return '#2563eb'
  if (system === 'map-fs') return '#a3a3a3'
  return '#64748b'
}

/** An SVG bar chart of one workload: one bar per system, the median as the bar, min–max as a whisker. */
export function renderChart(
  workload: string,
  meta: WorkloadMeta,
  entries: Readonly<Record<string, SystemResult>>,
): string {
  const rows = Object.entries(entries)
  const height = TOP + rows.length * ROW + BOTTOM
  const numbers = rows.flatMap(([, entry]) => {
    const value = entry[meta.unit]
    return typeof value === 'number' ? [value, entry.spread?.max ?? value] : []
  })
  const scaleMax = numbers.length > 0 ? Math.max(...numbers) : 1
  const x = (value: number): number => LABEL_WIDTH + (scaleMax === 0 ? 0 : (value / scaleMax) * BAR_AREA)
  const better = meta.higherIsBetter ? 'higher is better' : 'lower is better'
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`,
    `<title>${escapeXml(`${workload}: ${meta.title}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="600" fill="#111827">${escapeXml(workload)}: ${escapeXml(meta.title)}</text>`,
  ]
  rows.forEach(([system, entry], i) => {
    const y = TOP + i * ROW
    const mid = y + ROW / 2
    parts.push(
      `<text x="${LABEL_WIDTH - 10}" y="${mid + 4}" text-anchor="end" fill="#111827">${escapeXml(system)}</text>`,
    )
    const value = entry[meta.unit]
    if (typeof value !== 'number') {
      parts.push(
        `<text x="${LABEL_WIDTH + 4}" y="${mid + 4}" fill="#b91c1c" font-style="italic">${escapeXml(String(value))}</text>`,
      )
      return
    }
    const barEnd = x(value)
    parts.push(
      `<rect x="${LABEL_WIDTH}" y="${y + 5}" width="${Math.max(1, barEnd - LABEL_WIDTH).toFixed(1)}" height="${ROW - 10}" rx="2" fill="${colour(system)}"/>`,
    )
    if (entry.spread && entry.spread.max > entry.spread.min) {
      const lo = x(entry.spread.min).toFixed(1)
      const hi = x(entry.spread.max).toFixed(1)
      parts.push(
        `<path d="M${lo} ${mid}H${hi}M${lo} ${mid - 5}V${mid + 5}M${hi} ${mid - 5}V${mid + 5}" stroke="#111827" stroke-width="1.2" fill="none"/>`,
      )
    }
    const labelX = Math.max(barEnd, entry.spread ? x(entry.spread.max) : barEnd) + 8
    parts.push(
      `<text x="${labelX.toFixed(1)}" y="${mid + 4}" fill="#111827">${escapeXml(formatFigure(meta.unit, value))}</text>`,
    )
  })
  const axisY = TOP + rows.length * ROW + 4
  parts.push(
    `<line x1="${LABEL_WIDTH}" y1="${TOP}" x2="${LABEL_WIDTH}" y2="${axisY}" stroke="#9ca3af"/>`,
    `<text x="${LABEL_WIDTH}" y="${axisY + 20}" fill="#4b5563">${escapeXml(`${unitLabel(meta.unit)}, median of up to ${meta.repeats} run${meta.repeats === 1 ? '' : 's'}, whiskers min–max; ${better}`)}</text>`,
    '</svg>',
  )
  return parts.join('\n') + '\n'
}
