// @ts-check
// Building the operator page's DOM without markup strings: every text that comes from the server (user names,
// values, URLs) goes in as a text node or an attribute value, never through innerHTML, so a value is always data.
// Plus the formatting of numbers, sizes, ages and chains the views share.

/**
 * An element with attributes and children. Strings become text nodes; `null`, `undefined` and `false` are skipped.
 * `on*` attributes given a function become listeners.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value))
    } else el.setAttribute(name, value === true ? '' : String(value))
  }
  append(el, ...children)
  return el
}

/**
 * Appends children (text as text nodes).
 * @param {Element} el
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function append(el, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'number' ? String(child) : child)
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function replace(el, ...children) {
  el.replaceChildren()
  append(el, ...children)
}

/**
 * Sets an element's text if it changed (so a live update does not disturb what did not change).
 * @param {Element} el
 * @param {string} text
 */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text
}

/**
 * The element with this id (throws if the page lacks it: a bug, not a state).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page has no #${id}`)
  return el
}

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 })

/**
 * @param {number | null | undefined} n
 * @returns {string}
 */
export function count(n) {
  return n === null || n === undefined ? '—' : integer.format(n)
}

/**
 * A rate or a duration with one decimal at most.
 * @param {number | null | undefined} n
 * @returns {string}
 */
export function amount(n) {
  return n === null || n === undefined ? '—' : decimal.format(n)
}

/**
 * Bytes in B, KiB, MiB or GiB.
 * @param {number | null | undefined} n
 * @returns {string}
 */
export function bytes(n) {
  if (n === null || n === undefined) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? integer.format(v) : decimal.format(v)} ${units[u]}`
}

/**
 * How long ago `then` was, seen from `now` (both on the server's clock, ms).
 * @param {number | null | undefined} then
 * @param {number} now
 * @returns {string}
 */
export function ago(then, now) {
  if (then === null || then === undefined) return 'never'
  const s = Math.max(0, Math.round((now - then) / 1000))
  if (s < 2) return 'just now'
  if (s < 90) return `${s} s ago`
  const m = Math.round(s / 60)
  if (m < 90) return `${m} min ago`
  const hours = Math.round(m / 60)
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`
}

/**
 * The first 8 of a chain's 16 hex digits (the whole one goes in the title).
 * @param {string | null | undefined} chain
 * @returns {string}
 */
export function shortChain(chain) {
  return chain ? chain.slice(0, 8) : '—'
}
