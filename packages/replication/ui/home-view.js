// @ts-check
// The home's overview: the server's figures and charts, the moves in flight and every user (the first ones the
// filter matches) with its head, bytes on disk, writer and replicas, all live from the feed.
import { LineChart } from './charts.js'
import { ago, amount, bytes, count, h, replace, setText, shortChain } from './dom.js'
import { UserList } from './user-list.js'

/** @typedef {import('./charts.js').Sample} Sample */

/** Samples kept by the page (five minutes). */
const KEEP = 300

/**
 * A state badge.
 * @param {string} state
 * @param {string} [text]
 */
export function badge(state, text = state) {
  return h('span', { class: `badge badge-${state}` }, text)
}

/**
 * The writer as the home sees it: a badge and what it did lately.
 * @param {any} writer
 * @param {number} now
 */
export function writerCell(writer, now) {
  if (writer.state === 'refused') {
    return h('span', {}, badge('refused', `refused: ${writer.lastRefusal.code}`), ` ${ago(writer.lastRefusal.at, now)}`)
  }
  const rate = writer.commitsPerSec > 0 ? ` ${amount(writer.commitsPerSec)} commits/s` : ''
  return h('span', {}, badge(writer.state, writer.state === 'none' ? 'no appends yet' : writer.state), rate)
}

/**
 * Replicas: how many, and the largest lag in commits.
 * @param {any[]} replicas
 */
export function replicasText(replicas) {
  if (replicas.length === 0) return 'none'
  const lags = replicas.map((r) => r.lag).filter((l) => l !== null)
  const worst = lags.length === 0 ? '—' : count(Math.max(...lags))
  return `${replicas.length} · lag ${worst}`
}

/**
 * A move's progress: a <progress> of the copy and its numbers.
 * @param {{ copied: number | null, sourceHead: number | null }} move
 */
export function progressCell(move) {
  if (move.copied === null || move.sourceHead === null) return h('span', {}, '—')
  const max = Math.max(1, move.sourceHead)
  const value = Math.min(max, move.copied)
  const label = `${count(move.copied)} of ${count(move.sourceHead)} commits`
  return h('span', { class: 'progress' }, h('progress', { max, value, 'aria-label': label }), label)
}

/**
 * @param {any} move
 */
function moveOutcome(move) {
  if (move.role !== 'mover') return move.role === 'source' ? 'frozen here (source)' : 'copying here (target)'
  if (move.outcome === 'done') {
    return `done: homeEpoch ${move.epoch}, writes paused ${count(move.freezeMs)} ms`
  }
  return move.outcome === 'failed' ? `failed: ${move.error}` : move.phase
}

/** The overview of a home. */
export class HomeOverview {
  /**
   * @param {{ onFilter: (text: string) => void }} options
   */
  constructor(options) {
    /** @type {Sample[]} */
    this.samples = []
    this.stats = h('dl', { class: 'stats' })
    this.charts = [
      new LineChart({ title: 'Appends', unit: '/s', series: [{ key: 'appendsPerSec', label: 'appends' }] }),
      new LineChart({
        title: 'fsync wait',
        unit: 'ms',
        series: [
          { key: 'fsyncMeanMs', label: 'mean' },
          { key: 'fsyncP99Ms', label: 'p99' },
        ],
      }),
      new LineChart({ title: 'Open logs', unit: '', series: [{ key: 'openLogs', label: 'open logs' }] }),
      new LineChart({ title: 'Requests', unit: '/s', series: [{ key: 'requestsPerSec', label: 'requests' }] }),
    ]
    this.moves = h('div', { class: 'moves' })
    this.users = new UserList({
      caption: 'Users of this home',
      head: (row) => h('a', { href: `#user/${encodeURIComponent(row.name)}` }, row.name),
      onFilter: options.onFilter,
      columns: [
        { label: 'State', cell: (r) => badge(r.state) },
        { label: 'Epoch', cell: (r) => count(r.epoch), numeric: true },
        { label: 'Head', cell: (r) => (r.head === null ? '—' : `seq ${count(r.head.seq)}`), numeric: true },
        { label: 'Chain', cell: (r) => h('code', { title: r.head?.chain ?? '' }, shortChain(r.head?.chain)) },
        { label: 'On disk', cell: (r) => bytes(r.bytes), numeric: true },
        { label: 'Last append', cell: (r, now) => ago(r.writer.lastAppendAt, now) },
        { label: 'Writer', cell: (r, now) => writerCell(r.writer, now) },
        { label: 'Replicas', cell: (r) => replicasText(r.replicas) },
      ],
    })
    this.element = h(
      'div',
      {},
      h(
        'section',
        { 'aria-labelledby': 'server-h' },
        h('h2', { id: 'server-h', tabindex: '-1' }, 'Server'),
        this.stats,
        h('div', { class: 'charts' }, ...this.charts.map((c) => c.element)),
      ),
      h('section', { 'aria-labelledby': 'moves-h' }, h('h2', { id: 'moves-h' }, 'Moves in flight'), this.moves),
      this.users.element,
    )
  }

  /** @param {any} state */
  update(state) {
    this.samples = [...this.samples, ...state.figures].slice(-KEEP)
    this.renderStats(state)
    for (const chart of this.charts) chart.update(this.samples, state.at)
    this.renderMoves(state.moves)
    this.users.apply(state.users, state.at)
  }

  /** @param {any} state */
  renderStats(state) {
    const s = state.server
    const last = this.samples.at(-1)
    /** @type {[string, string][]} */
    const items = [
      ['Users', count(s.users)],
      ['Open logs', `${count(s.openLogs)} / ${count(s.maxOpenLogs)}`],
      ['Waiting tails', count(s.tails)],
      ['Appends', `${amount(last?.appendsPerSec)} /s`],
      ['Commits', `${amount(last?.commitsPerSec)} /s`],
      ['fsync wait', `${amount(last?.fsyncMeanMs)} ms`],
      ['Requests', `${amount(last?.requestsPerSec)} /s`],
      ['Directory', s.directory ? 'joined' : 'none'],
    ]
    if (this.stats.childElementCount !== items.length) {
      replace(this.stats, ...items.map(([k]) => h('div', { class: 'stat' }, h('dt', {}, k), h('dd'))))
    }
    items.forEach(([, v], i) => {
      const dd = this.stats.children[i]?.querySelector('dd')
      if (dd) setText(dd, v)
    })
  }

  /** @param {any[]} moves */
  renderMoves(moves) {
    if (moves.length === 0) {
      replace(this.moves, h('p', { class: 'empty' }, 'No move in flight.'))
      return
    }
    const rows = moves.map((m) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, h('a', { href: `#user/${encodeURIComponent(m.user)}` }, m.user)),
        h('td', { 'data-label': 'Role' }, m.role === 'mover' ? 'started here' : m.role),
        h('td', { 'data-label': 'Other home' }, m.role === 'mover' ? `→ ${m.to}` : (m.other ?? '—')),
        h('td', { 'data-label': 'Progress' }, progressCell(m)),
        h('td', { 'data-label': 'Copied', class: 'num' }, bytes(m.copiedBytes)),
        h('td', { 'data-label': 'Step' }, moveOutcome(m)),
      ),
    )
    const head = ['User', 'Role', 'Other home', 'Progress', 'Copied', 'Step'].map((l) => h('th', { scope: 'col' }, l))
    replace(
      this.moves,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'live' },
          h('caption', { class: 'sr-only' }, 'Moves in flight'),
          h('thead', {}, h('tr', {}, ...head)),
          h('tbody', {}, ...rows),
        ),
      ),
    )
  }
}
