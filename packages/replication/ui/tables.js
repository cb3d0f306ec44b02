// @ts-check
// Live tables keyed by a name: rows are created once and updated in place, so a screen reader's position and the
// keyboard focus survive the once-a-second updates; on a phone each row becomes a card (the CSS reads each cell's
// `data-label`).
import { h, replace, setText } from './dom.js'

/**
 * @template R
 * @typedef {{ label: string, cell: (row: R, now: number) => string | Node, numeric?: boolean }} Column
 */

/**
 * @template {{ name: string } & Record<string, any>} R
 */
export class LiveTable {
  /**
   * @param {{ caption: string, headLabel: string, head: (row: R) => Node, columns: Column<R>[], empty: string }} options
   */
  constructor(options) {
    this.options = options
    /** @type {Map<string, { tr: HTMLElement, cells: HTMLElement[], row: R }>} */
    this.rows = new Map()
    this.body = h('tbody')
    this.empty = h('p', { class: 'empty' }, options.empty)
    const head = h(
      'tr',
      {},
      h('th', { scope: 'col' }, options.headLabel),
      ...options.columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.label)),
    )
    this.table = h(
      'table',
      { class: 'live' },
      h('caption', { class: 'sr-only' }, options.caption),
      h('thead', {}, head),
      this.body,
    )
    this.element = h('div', { class: 'table-wrap' }, this.table, this.empty)
  }

  /**
   * Applies a full list or changes (`removed` names leave).
   * @param {{ full: boolean, rows: R[], removed: string[] }} changes
   * @param {number} now
   */
  apply(changes, now) {
    if (changes.full) {
      const keep = new Set(changes.rows.map((r) => r.name))
      for (const name of [...this.rows.keys()]) if (!keep.has(name)) this.drop(name)
    }
    for (const name of changes.removed) this.drop(name)
    let added = false
    for (const row of changes.rows) {
      const entry = this.rows.get(row.name)
      if (entry === undefined) {
        this.add(row)
        added = true
      } else entry.row = row
    }
    if (added) this.order()
    this.refresh(now)
  }

  /**
   * Re-renders every cell (ages move on even when rows do not change).
   * @param {number} now
   */
  refresh(now) {
    for (const { cells, row } of this.rows.values()) {
      this.options.columns.forEach((column, i) => {
        const td = cells[i]
        if (td === undefined) return
        const value = column.cell(row, now)
        if (typeof value === 'string') setText(td, value)
        else replace(td, value)
      })
    }
    this.empty.hidden = this.rows.size > 0
    this.table.hidden = this.rows.size === 0
  }

  /** @param {R} row */
  add(row) {
    const cells = this.options.columns.map((c) =>
      h('td', { 'data-label': c.label, class: c.numeric ? 'num' : undefined }),
    )
    const tr = h('tr', { 'data-name': row.name }, h('th', { scope: 'row' }, this.options.head(row)), ...cells)
    this.rows.set(row.name, { tr, cells, row })
  }

  /** @param {string} name */
  drop(name) {
    this.rows.get(name)?.tr.remove()
    this.rows.delete(name)
  }

  order() {
    const names = [...this.rows.keys()].sort()
    for (const name of names) {
      const entry = this.rows.get(name)
      if (entry) this.body.append(entry.tr)
    }
  }
}
