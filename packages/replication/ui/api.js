// @ts-check
// The page's calls to its server: reads (GET, the session cookie goes along by itself) and actions (POST with
// this session's CSRF token, which the server also checks against the page's origin). Errors carry the server's
// wire code and message, which the views show as they are.

/** The session's CSRF token, given to the page in a meta tag. */
function csrf() {
  const meta = document.querySelector('meta[name="homedb-csrf"]')
  return meta?.getAttribute('content') ?? ''
}

/** An error answer of the server. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/**
 * @param {Response} response
 * @returns {Promise<any>}
 */
async function answer(response) {
  const body = await response.json().catch(() => undefined)
  if (response.ok) return body
  if (response.status === 401) {
    // The session ended (logout elsewhere, expiry, restart): back to the login form.
    window.location.assign('/ui')
  }
  const error = body?.error
  throw new ApiError(response.status, error?.code ?? String(response.status), error?.message ?? response.statusText)
}

/**
 * GET /ui/api/<path> with a query.
 * @param {string} path
 * @param {Record<string, string | number | undefined>} [query]
 * @returns {Promise<any>}
 */
export async function get(path, query = {}) {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v))
  const q = params.toString()
  return answer(await fetch(`/ui/api/${path}${q === '' ? '' : `?${q}`}`, { headers: { accept: 'application/json' } }))
}

/**
 * POST /ui/api/<path> with a JSON body: an action.
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function post(path, body = {}) {
  const response = await fetch(`/ui/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'homedb-csrf': csrf() },
    body: JSON.stringify(body),
  })
  return answer(response)
}

/**
 * A user name in a path.
 * @param {string} name
 */
export function userPath(name) {
  return `users/${encodeURIComponent(name)}`
}
