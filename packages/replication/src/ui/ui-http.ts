// The HTTP details of the operator page: the security headers every `/ui` answer carries (a strict
// Content-Security-Policy: scripts, styles and connections from this origin only, no inline code, no framing), the
// session cookie (HttpOnly, SameSite=Strict, Path=/ui, Secure under TLS), the same-origin check of actions (the
// `Origin` a browser sends must be this server's), and HTML and JSON answers.
import type { WireErrorCode, WireRequest, WireResponse } from '../wire.js'

/**
 * Content-Security-Policy of every `/ui` answer: nothing may load or run unless it comes from this origin, inline
 * scripts and styles included (the page has none), and no other site may frame it.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

/** Headers of every `/ui` answer. */
export const UI_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
})

/** The header an action carries its session's CSRF token in. */
export const CSRF_HEADER = 'homedb-csrf'

/** A JSON answer of the page's API (never cached). */
export function uiJson(status: number, value: unknown, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...UI_HEADERS,
      ...headers,
    },
    body: Buffer.from(JSON.stringify(value)),
  }
}

/** An error of the page's API, in the protocol's error body (`{ error: { code, message } }`). */
export function uiError(
  status: number,
  code: WireErrorCode,
  message: string,
  headers: Record<string, string> = {},
): WireResponse {
  return uiJson(status, { error: { code, message } }, headers)
}

/** An HTML page (never cached: it may carry a CSRF token). */
export function uiHtml(status: number, html: string, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...UI_HEADERS, ...headers },
    body: Buffer.from(html),
  }
}

/** A redirect after a form post (303: the browser follows with a GET). */
export function uiRedirect(location: string, headers: Record<string, string> = {}): WireResponse {
  return { status: 303, headers: { location, 'cache-control': 'no-store', ...UI_HEADERS, ...headers } }
}

/** Text as HTML text: `& < > " '` escaped (the only place the server puts a string into markup). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The value of cookie `name` in a request, if it carries one. */
export function cookieOf(request: WireRequest, name: string): string | undefined {
  const header = request.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const at = part.indexOf('=')
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim()
  }
  return undefined
}

/** `Set-Cookie` for a session: HttpOnly, SameSite=Strict, Path=/ui, Secure when the request came over TLS. */
export function sessionCookie(request: WireRequest, name: string, id: string, maxAgeSeconds: number): string {
  const secure = request.secure === true ? '; Secure' : ''
  return `${name}=${id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedCookie(request: WireRequest, name: string): string {
  return sessionCookie(request, name, '', 0)
}

/**
 * Whether a request comes from a page of this server: its `Origin` (which browsers send with every POST, and
 * which a page of another site cannot forge) is this server's scheme, host and port. A request without one is
 * refused too: the page always sends it.
 */
export function sameOrigin(request: WireRequest): boolean {
  const origin = request.headers.origin
  if (origin === undefined || request.host === undefined) return false
  return origin === `${request.secure === true ? 'https' : 'http'}://${request.host}`
}
