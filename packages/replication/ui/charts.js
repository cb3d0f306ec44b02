// @ts-check
// Small inline SVG line charts of the server's figures over the last five minutes: no library, no canvas. The
// chart's numbers (now, peak) are HTML text beside it, so they read well at any width and reach screen readers; the
// SVG stretches to its box and keeps its lines one pixel wide.
import { amount, h } from './dom.js'

const SVG = 'http://www.w3.org/2000/svg'
const WIDTH = 300
const HEIGHT = 80
/** The span of time a chart shows at most, and at least (a page that just opened shows what there is), ms. */
export const SPAN_MS = 5 * 60_000
const MIN_SPAN_MS = 60_000

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @returns {SVGElement}
 */
function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  return el
}

/**
 * @typedef {{ key: string, label: string }} Series
 * @typedef {Record<string, number> & { at: number }} Sample
 */

/** One chart: a title, one or two series (the second drawn dashed), the latest and the peak value. */
export class LineChart {
  /**
   * @param {{ title: string, unit: string, series: Series[] }} options
   */
  constructor(options) {
    this.options = options
    this.now = h('span', { class: 'chart-now' }, '—')
    this.peak = h('span', { class: 'chart-peak' })
    this.span = h('span', {}, 'last 5 min')
    this.lines = options.series.map((_, i) =>
      svg('polyline', { class: `line line-${i}`, fill: 'none', 'vector-effect': 'non-scaling-stroke', points: '' }),
    )
    this.plot = svg('svg', {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: 'none',
      role: 'img',
      class: 'chart-plot',
    })
    this.plot.append(svg('line', { class: 'axis', x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT }), ...this.lines)
    const legend =
      options.series.length > 1
        ? h(
            'span',
            { class: 'chart-legend' },
            ...options.series.map((s, i) => h('span', { class: `key key-${i}` }, s.label)),
          )
        : null
    this.element = h(
      'figure',
      { class: 'chart' },
      h('figcaption', {}, h('span', { class: 'chart-title' }, options.title), this.now),
      this.plot,
      h('div', { class: 'chart-foot' }, this.span, legend, this.peak),
    )
  }

  /**
   * Redraws from the samples (oldest first) as seen at `now` (the server's clock).
   * @param {Sample[]} samples
   * @param {number} now
   */
  update(samples, now) {
    const { series, unit, title } = this.options
    const first = samples.find((s) => s.at >= now - SPAN_MS)?.at ?? now
    const span = Math.min(SPAN_MS, Math.max(MIN_SPAN_MS, now - first))
    const from = now - span
    const shown = samples.filter((s) => s.at >= from)
    const minutes = Math.round(span / 60_000)
    this.span.textContent = `last ${minutes} min`
    let peak = 0
    for (const s of shown) for (const { key } of series) peak = Math.max(peak, s[key] ?? 0)
    const top = peak > 0 ? peak * 1.15 : 1
    series.forEach(({ key }, i) => {
      const points = shown.map((s) => {
        const x = ((s.at - from) / span) * WIDTH
        const y = HEIGHT - ((s[key] ?? 0) / top) * (HEIGHT - 4)
        return `${x.toFixed(1)},${y.toFixed(1)}`
      })
      this.lines[i]?.setAttribute('points', points.join(' '))
    })
    const last = shown.at(-1)
    const text = last === undefined ? '—' : series.map(({ key }) => `${amount(last[key])}`).join(' / ')
    this.now.textContent = last === undefined ? '—' : `${text} ${unit}`
    this.peak.textContent = `peak ${amount(peak)} ${unit}`
    this.plot.setAttribute(
      'aria-label',
      `${title} over the last ${minutes} min: now ${text} ${unit}, peak ${amount(peak)}`,
    )
  }
}
