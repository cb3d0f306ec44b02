// @ts-check
// The users section both overviews show (a home's and the directory's): a live table of users, a filter by name
// that asks the server for matching users (debounced), and a count of how many match and how many are listed.
import { count, h, setText } from './dom.js'
import { LiveTable } from './tables.js'

/** @template {{ name: string } & Record<string, any>} R */
export class UserList {
  /**
   * @param {{ caption: string, head: (row: R) => Node, columns: import('./tables.js').Column<R>[], onFilter: (text: string) => void }} options
   */
  constructor(options) {
    this.count = h('p', { class: 'count', role: 'status' })
    /** @type {LiveTable<R>} */
    this.table = new LiveTable({ ...options, headLabel: 'User', empty: 'No user matches.' })
    const filter = h('input', { id: 'user-filter', type: 'search', autocomplete: 'off', spellcheck: 'false' })
    let timer = 0
    filter.addEventListener('input', () => {
      clearTimeout(timer)
      timer = window.setTimeout(() => options.onFilter(/** @type {HTMLInputElement} */ (filter).value), 250)
    })
    this.element = h(
      'section',
      { 'aria-labelledby': 'users-h' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'users-h' }, 'Users'),
        h('div', { class: 'filter' }, h('label', { for: 'user-filter' }, 'Filter by name'), filter),
      ),
      this.count,
      this.table.element,
    )
  }

  /**
   * Applies the feed's users (a full list or changes) and says how many match.
   * @param {{ full: boolean, rows: R[], removed: string[], total: number, matched: number, limit: number }} users
   * @param {number} now
   */
  apply(users, now) {
    this.table.apply(users, now)
    const { total, matched, limit } = users
    const more = matched > limit ? `; the first ${count(limit)} are listed, narrow the filter to see others` : ''
    const base =
      matched === total
        ? `${count(total)} user${total === 1 ? '' : 's'}`
        : `${count(matched)} of ${count(total)} users match`
    setText(this.count, `${base}${more}.`)
  }
}
