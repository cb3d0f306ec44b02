// @ts-check
// The directory's overview: users, homes (each linking to its own operator page) and moves in flight, live.
import { ago, count, h, replace } from './dom.js'
import { badge } from './home-view.js'
import { UserList } from './user-list.js'

/**
 * A link to a home's operator page.
 * @param {string} home
 */
function homeLink(home) {
  return h('a', { href: `${home}/ui` }, home)
}

export class DirectoryOverview {
  /**
   * @param {{ onFilter: (text: string) => void }} options
   */
  constructor(options) {
    this.stats = h('dl', { class: 'stats' })
    this.homes = h('div')
    this.moves = h('div')
    this.users = new UserList({
      caption: 'Users in the directory',
      head: (row) => h('span', {}, row.name),
      onFilter: options.onFilter,
      columns: [
        { label: 'Home', cell: (r) => homeLink(r.home) },
        { label: 'homeEpoch', cell: (r) => count(r.epoch), numeric: true },
        { label: 'State', cell: (r) => badge(r.state === 'moving' ? 'frozen' : 'active', r.state) },
      ],
    })
    this.element = h(
      'div',
      {},
      h(
        'section',
        { 'aria-labelledby': 'server-h' },
        h('h2', { id: 'server-h', tabindex: '-1' }, 'Directory'),
        this.stats,
      ),
      h('section', { 'aria-labelledby': 'homes-h' }, h('h2', { id: 'homes-h' }, 'Homes'), this.homes),
      h('section', { 'aria-labelledby': 'moves-h' }, h('h2', { id: 'moves-h' }, 'Moves in flight'), this.moves),
      this.users.element,
    )
  }

  /** @param {any} state */
  update(state) {
    const s = state.server
    replace(
      this.stats,
      ...[
        ['Users', count(s.users)],
        ['Homes', count(s.homes)],
        ['Moves in flight', count(s.moving)],
        ['Revision', count(s.revision)],
      ].map(([k, v]) => h('div', { class: 'stat' }, h('dt', {}, k), h('dd', {}, v))),
    )
    replace(
      this.homes,
      simpleTable(
        'Homes',
        ['Home', 'Users'],
        state.homes.map((/** @type {any} */ m) => [homeLink(m.url), count(m.users)]),
        'No home yet.',
      ),
    )
    const moves = state.moves.map((/** @type {any} */ m) => [
      m.user,
      homeLink(m.from),
      m.to === null ? '—' : homeLink(m.to),
      count(m.epoch),
      ago(m.startedAt, state.at),
    ])
    replace(
      this.moves,
      simpleTable('Moves in flight', ['User', 'From', 'To', 'homeEpoch', 'Started'], moves, 'No move in flight.'),
    )
    this.users.apply(state.users, state.at)
  }
}

/**
 * A small static table (its first cell is the row header).
 * @param {string} caption
 * @param {string[]} columns
 * @param {(string | Node)[][]} rows
 * @param {string} empty
 */
function simpleTable(caption, columns, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty)
  const body = rows.map((cells) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, cells[0] ?? ''),
      ...cells.slice(1).map((c, i) => h('td', { 'data-label': columns[i + 1] }, c)),
    ),
  )
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'live' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...body),
    ),
  )
}
