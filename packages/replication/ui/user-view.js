// @ts-check
// One user of a home: where it stands (live from the feed), its replicas, the two actions (move to another home,
// new token), its tables as they stand at the head (decoded by the server without the app's schema, a page of
// entries at a time) and its last commits with their operations. Values are shown as text, never as markup.
import { ApiError, get, post, userPath } from './api.js'
import { confirmAction, showSecret } from './dialogs.js'
import { ago, bytes, count, h, replace, setText, shortChain } from './dom.js'
import { badge, progressCell, writerCell } from './home-view.js'
import { LiveTable } from './tables.js'

const PAGE = 25

/**
 * A message for a failed call.
 * @param {unknown} error
 */
function failure(error) {
  return error instanceof ApiError ? `${error.message} (${error.code})` : String(error)
}

export class UserView {
  /** @param {string} name */
  constructor(name) {
    this.name = name
    /** @type {any} */
    this.row = undefined
    this.at = 0
    /** @type {{ logId: string, start: number } | null} */
    this.log = null
    this.title = h('h2', { id: 'user-h', tabindex: '-1' }, name)
    this.stateBadge = h('span')
    this.summary = h('dl', { class: 'summary' })
    this.replicas = new LiveTable({
      caption: `Replicas of ${name}`,
      headLabel: 'Replica slot',
      head: (r) => h('code', {}, r.name),
      empty: 'No replica confirmed a position.',
      columns: [
        { label: 'Position', cell: (r) => `seq ${count(r.seq)}`, numeric: true },
        { label: 'Lag', cell: (r) => (r.lag === null ? '—' : `${count(r.lag)} commits`), numeric: true },
        { label: 'Confirmed', cell: (r, now) => ago(r.confirmedAt, now) },
      ],
    })
    this.actionStatus = h('p', { class: 'action-status', role: 'status' })
    this.moveStatus = h('div', { class: 'move-status' })
    this.moveButton = h('button', { type: 'button', onclick: () => this.move() }, 'Move to another home…')
    this.rotateButton = h('button', { type: 'button', class: 'danger', onclick: () => this.rotate() }, 'New token…')
    this.tablesHead = h('p', { class: 'muted' })
    this.tableList = h('ul', { class: 'table-list' })
    this.entries = h('div', { class: 'entries', 'aria-live': 'polite' })
    this.commits = h('ol', { class: 'commits' })
    this.element = this.layout()
  }

  layout() {
    /** A section whose heading may have a tool beside it. */
    const section = (
      /** @type {string} */ id,
      /** @type {string} */ title,
      /** @type {Node | null} */ tool,
      /** @type {Node[]} */ ...body
    ) =>
      h(
        'section',
        { 'aria-labelledby': id },
        h('div', { class: 'section-head' }, h('h2', { id }, title), tool),
        ...body,
      )
    return h(
      'div',
      {},
      h('p', { class: 'back-line' }, h('a', { href: '#', class: 'back' }, '← All users')),
      h(
        'section',
        { 'aria-labelledby': 'user-h' },
        h('div', { class: 'user-head' }, this.title, this.stateBadge),
        this.summary,
      ),
      section('replicas-h', 'Replicas', null, this.replicas.element),
      section(
        'actions-h',
        'Actions',
        null,
        h('div', { class: 'actions' }, this.moveButton, this.rotateButton),
        this.moveStatus,
        this.actionStatus,
      ),
      section(
        'tables-h',
        'Tables',
        h('button', { type: 'button', onclick: () => this.loadTables() }, 'Read again at the head'),
        this.tablesHead,
        this.tableList,
        this.entries,
      ),
      section(
        'commits-h',
        'Last commits',
        h('button', { type: 'button', onclick: () => this.loadCommits() }, 'Refresh'),
        this.commits,
      ),
    )
  }

  /** Loads what the feed does not carry: the log's id and start, the tables, the commits. */
  async load() {
    try {
      const info = await get(userPath(this.name))
      this.log = info.log
      this.render(info.user, info.at)
    } catch (error) {
      setText(this.actionStatus, failure(error))
    }
    await Promise.all([this.loadTables(), this.loadCommits()])
  }

  /** @param {any} state a feed event (filtered to this user) */
  update(state) {
    this.at = state.at
    const row = state.users.rows.find((/** @type {any} */ r) => r.name === this.name) ?? this.row
    if (row !== undefined) this.render(row, state.at)
    this.renderMove(state.moves.filter((/** @type {any} */ m) => m.user === this.name))
  }

  /**
   * @param {any} row
   * @param {number} now
   */
  render(row, now) {
    this.row = row
    replace(this.stateBadge, badge(row.state))
    /** @type {[string, string | Node][]} */
    const items = [
      ['homeEpoch', count(row.epoch)],
      ['Head', row.head === null ? 'no commits seen yet' : `seq ${count(row.head.seq)}`],
      ['Chain', h('code', {}, row.head?.chain ?? '—')],
      ['Log', this.log === null ? '—' : h('code', { title: `starts after seq ${this.log.start}` }, this.log.logId)],
      ['On disk', bytes(row.bytes)],
      ['Snapshot', row.snapshot === null ? 'none' : `seq ${count(row.snapshot.seq)}, ${bytes(row.snapshot.bytes)}`],
      ['Last append', ago(row.writer.lastAppendAt, now)],
      ['Writer', writerCell(row.writer, now)],
    ]
    if (row.movedTo) items.push(['Lives at', row.movedTo.home])
    replace(this.summary, ...items.map(([k, v]) => h('div', { class: 'stat' }, h('dt', {}, k), h('dd', {}, v))))
    this.replicas.apply({ full: true, rows: row.replicas, removed: [] }, now)
    const active = row.state === 'active'
    this.moveButton.toggleAttribute('disabled', !active)
    this.rotateButton.toggleAttribute('disabled', row.state === 'moved')
  }

  /** @param {any[]} moves */
  renderMove(moves) {
    const move = moves.find((m) => m.role === 'mover')
    if (move === undefined) return replace(this.moveStatus)
    const text =
      move.outcome === 'done'
        ? `Moved to ${move.to}: homeEpoch ${move.epoch}, writes paused ${count(move.freezeMs)} ms.`
        : move.outcome === 'failed'
          ? `The move to ${move.to} failed: ${move.error}`
          : `Moving to ${move.to}: ${move.phase}…`
    replace(
      this.moveStatus,
      h('p', { class: `move-${move.outcome}` }, text),
      move.outcome === 'running' ? progressCell(move) : null,
    )
  }

  async move() {
    let homes = []
    try {
      homes = (await get('homes')).homes
    } catch {
      // suggestions are a convenience
    }
    const to = await confirmAction({
      title: `Move ${this.name}`,
      message:
        'The target copies the user while this home serves it, then writes pause for a moment while the directory switches. Nothing acknowledged is lost.',
      confirm: 'Start the move',
      input: { label: 'Target home URL', placeholder: 'http://host:port', suggestions: homes },
    })
    if (typeof to !== 'string') return
    try {
      await post(`${userPath(this.name)}/move`, { to })
      setText(this.actionStatus, `Move to ${to} started.`)
    } catch (error) {
      setText(this.actionStatus, `The move was not started: ${failure(error)}`)
    }
  }

  async rotate() {
    const ok = await confirmAction({
      title: `New token for ${this.name}`,
      message: 'The current token stops working at once: the user’s writer and replicas need the new one.',
      confirm: 'Make a new token',
      danger: true,
    })
    if (ok !== true) return
    try {
      const { token } = await post(`${userPath(this.name)}/token`)
      setText(this.actionStatus, 'A new token was made; the old one is refused from now on.')
      await showSecret({
        title: `New token for ${this.name}`,
        message: 'It is shown once: keep it now.',
        secret: token,
      })
    } catch (error) {
      setText(this.actionStatus, `No new token: ${failure(error)}`)
    }
  }

  async loadTables() {
    try {
      const answer = await get(`${userPath(this.name)}/tables`)
      setText(
        this.tablesHead,
        `As of seq ${count(answer.seq)} (chain ${shortChain(answer.chain)}), decoded without the app’s schema.`,
      )
      const buttons = answer.tables.map((/** @type {any} */ t) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              'aria-pressed': 'false',
              onclick: (/** @type {Event} */ e) => this.openTable(t.name, 0, answer.seq, e.currentTarget),
            },
            h('span', { class: 'table-name' }, t.name),
            h('span', { class: 'muted' }, ` ${t.kind} · ${count(t.size)}`),
          ),
        ),
      )
      replace(this.tableList, ...buttons)
      if (buttons.length === 0) replace(this.tableList, h('li', { class: 'empty' }, 'No table yet.'))
      replace(this.entries)
    } catch (error) {
      setText(this.tablesHead, failure(error))
      replace(this.tableList)
    }
  }

  /**
   * @param {string} name
   * @param {number} offset
   * @param {number} seq
   * @param {EventTarget | null} [button]
   */
  async openTable(name, offset, seq, button) {
    if (button instanceof HTMLElement) {
      for (const b of this.tableList.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button))
    }
    try {
      const page = await get(`${userPath(this.name)}/table`, { name, offset, limit: PAGE, seq })
      const rows = page.entries.map((/** @type {any} */ e) =>
        h(
          'tr',
          {},
          h('td', { 'data-label': 'Key' }, h('code', {}, e.key ?? '—')),
          h('td', { 'data-label': 'Value' }, h('code', { class: 'value' }, e.value)),
        ),
      )
      const end = offset + page.entries.length
      const pager = h(
        'div',
        { class: 'pager' },
        h(
          'button',
          {
            type: 'button',
            disabled: offset === 0,
            onclick: () => this.openTable(name, Math.max(0, offset - PAGE), seq),
          },
          'Previous',
        ),
        h('span', {}, page.size === 0 ? 'empty' : `${count(offset + 1)}–${count(end)} of ${count(page.size)}`),
        h(
          'button',
          { type: 'button', disabled: end >= page.size, onclick: () => this.openTable(name, end, seq) },
          'Next',
        ),
      )
      replace(
        this.entries,
        h('h3', {}, name, h('span', { class: 'muted' }, ` ${page.kind}`)),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'entries-table' },
            h('caption', { class: 'sr-only' }, `Entries of ${name}`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
            h('tbody', {}, ...rows),
          ),
        ),
        pager,
      )
    } catch (error) {
      replace(this.entries, h('p', { class: 'error' }, failure(error)))
    }
  }

  async loadCommits() {
    try {
      const answer = await get(`${userPath(this.name)}/commits`, { limit: 15 })
      const items = answer.commits.map((/** @type {any} */ c) =>
        h(
          'li',
          {},
          h(
            'p',
            { class: 'commit-head' },
            h('strong', {}, `seq ${count(c.seq)}`),
            ` · ${bytes(c.bytes)} · chain `,
            h('code', {}, shortChain(c.chain)),
          ),
          c.error
            ? h('p', { class: 'error' }, c.error)
            : h(
                'ul',
                { class: 'ops' },
                ...c.ops.map((/** @type {any} */ op) => h('li', {}, ...describeOp(op))),
                c.moreOps > 0 ? h('li', { class: 'muted' }, `and ${count(c.moreOps)} more operations`) : null,
              ),
        ),
      )
      replace(this.commits, ...items)
      if (items.length === 0) replace(this.commits, h('li', { class: 'empty' }, 'No commit yet.'))
    } catch (error) {
      replace(this.commits, h('li', { class: 'error' }, failure(error)))
    }
  }
}

/**
 * An operation as text parts: table, operation, its key/member/index, its value.
 * @param {any} op
 * @returns {(Node | string)[]}
 */
function describeOp(op) {
  const parts = /** @type {(Node | string)[]} */ ([h('code', { class: 'op-table' }, op.table || '(db)'), ` ${op.op}`])
  for (const field of ['key', 'key2', 'member', 'index']) {
    if (op[field] !== undefined) parts.push(' ', h('code', {}, op[field]))
  }
  if (op.value !== undefined) parts.push(' → ', h('code', { class: 'value' }, op.value))
  return parts
}
