// @ts-check
// The operator page's entry: picks the view for this server (a home's overview or one of its users, or the
// directory's overview) from the page and its address (#user/<name>), keeps one live feed open for it, and shows
// the feed's status in the header.

import { DirectoryOverview } from './directory-view.js'
import { byId, setText } from './dom.js'
import { Feed } from './feed.js'
import { HomeOverview } from './home-view.js'
import { UserView } from './user-view.js'

const kind = document.body.dataset.kind === 'directory' ? 'directory' : 'home'
const main = byId('main')
const status = byId('feed-status')
const serverUrl = byId('server-url')

/** @type {{ update(state: any): void, element: HTMLElement } | undefined} */
let view
let filter = ''

/** @type {Record<import('./feed.js').FeedStatus, string>} */
const STATUS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected: reload the page',
}

const feed = new Feed(
  (state) => {
    if (state.kind === 'home' && state.server.url) setText(serverUrl, state.server.url)
    view?.update(state)
  },
  (s) => {
    setText(status, STATUS[s])
    status.dataset.status = s
  },
)

/** The user an address names (`#user/<name>`), if any. */
function userOfHash() {
  const match = /^#user\/(.+)$/.exec(window.location.hash)
  return match === null ? undefined : decodeURIComponent(match[1] ?? '')
}

function route() {
  const user = kind === 'home' ? userOfHash() : undefined
  if (user !== undefined) {
    const detail = new UserView(user)
    view = detail
    main.replaceChildren(detail.element)
    document.title = `${user} · homedb`
    feed.open({ user })
    void detail.load()
    detail.title.focus()
    return
  }
  const onFilter = (/** @type {string} */ text) => {
    filter = text
    feed.open({ filter })
  }
  const overview = kind === 'home' ? new HomeOverview({ onFilter }) : new DirectoryOverview({ onFilter })
  view = overview
  main.replaceChildren(overview.element)
  document.title = kind === 'home' ? 'homedb · home' : 'homedb · directory'
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById('user-filter'))
  if (input) input.value = filter
  feed.open({ filter })
}

setText(byId('server-kind'), kind === 'home' ? 'home server' : 'directory')
setText(serverUrl, window.location.origin)
window.addEventListener('hashchange', route)
route()
