// @ts-check
// The page's dialogs, built on the native <dialog> (modal: focus stays inside, Escape cancels, focus returns to
// the button that opened it): a confirmation before every action, optionally asking for one value, and the
// one-time display of a new token.
import { h } from './dom.js'

let serial = 0

/**
 * Shows a modal dialog and resolves with what closed it (`returnValue`, '' when cancelled).
 * @param {HTMLDialogElement} dialog
 * @returns {Promise<string>}
 */
function run(dialog) {
  const opener = document.activeElement
  document.body.append(dialog)
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        dialog.remove()
        if (opener instanceof HTMLElement) opener.focus()
        resolve(dialog.returnValue)
      },
      { once: true },
    )
    dialog.showModal()
  })
}

/**
 * Asks before an action. With `input`, asks for a value too (with suggestions); resolves with it, or with
 * `true` without input; `null` when cancelled.
 * @param {{ title: string, message: string, confirm: string, danger?: boolean,
 *   input?: { label: string, placeholder?: string, suggestions?: string[] } }} options
 * @returns {Promise<string | true | null>}
 */
export async function confirmAction(options) {
  const id = `dialog-${++serial}`
  const field = options.input
    ? h('input', {
        id: `${id}-input`,
        name: 'value',
        type: 'url',
        required: true,
        placeholder: options.input.placeholder,
        list: options.input.suggestions?.length ? `${id}-list` : undefined,
        autocomplete: 'off',
      })
    : null
  const list = options.input?.suggestions?.length
    ? h('datalist', { id: `${id}-list` }, ...options.input.suggestions.map((s) => h('option', { value: s })))
    : null
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: `${id}-title` }, options.title),
    h('p', { id: `${id}-text` }, options.message),
    field ? h('label', { for: `${id}-input` }, options.input?.label ?? '') : null,
    field,
    list,
    h(
      'div',
      { class: 'dialog-buttons' },
      // Not a submit button: Enter in the field confirms (the form's first submit button is the confirm one).
      h('button', { type: 'button', onclick: () => dialog.close('') }, 'Cancel'),
      h('button', { type: 'submit', value: 'ok', class: options.danger ? 'danger' : 'primary' }, options.confirm),
    ),
  )
  const dialog = /** @type {HTMLDialogElement} */ (
    h('dialog', { 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text` }, form)
  )
  const result = await run(dialog)
  if (result !== 'ok') return null
  return field instanceof HTMLInputElement ? field.value.trim() : true
}

/**
 * Shows a secret once (a new token), with a button that copies it.
 * @param {{ title: string, message: string, secret: string }} options
 * @returns {Promise<void>}
 */
export async function showSecret(options) {
  const id = `dialog-${++serial}`
  const value = /** @type {HTMLInputElement} */ (
    h('input', { id: `${id}-secret`, readonly: true, value: options.secret, class: 'secret', spellcheck: 'false' })
  )
  const copied = h('span', { role: 'status', class: 'copied' })
  const copy = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        value.select()
        try {
          await navigator.clipboard.writeText(options.secret)
          copied.textContent = 'Copied.'
        } catch {
          copied.textContent = 'Selected: copy it with your keyboard.'
        }
      },
    },
    'Copy',
  )
  const dialog = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { 'aria-labelledby': `${id}-title` },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: `${id}-title` }, options.title),
        h('p', {}, options.message),
        h('label', { for: `${id}-secret` }, 'New token'),
        h('div', { class: 'secret-row' }, value, copy),
        copied,
        h('div', { class: 'dialog-buttons' }, h('button', { type: 'submit', value: 'ok', class: 'primary' }, 'Done')),
      ),
    )
  )
  await run(dialog)
}
