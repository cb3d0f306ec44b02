// A plain HTTP client of the operator page (`/ui`) for the tests that check its endpoints without a browser:
// logging in as a browser would (a form post from the page's origin), the session cookie and CSRF token it yields,
// same-origin actions, and a reader of the live feed's server-sent events.

/** A logged-in session: the cookie to send and the page's CSRF token. */
export interface UiLogin {
  readonly cookie: string
  readonly csrf: string
  /** The `Set-Cookie` header the login answered with. */
  readonly setCookie: string
}

/** Posts the login form from the page's origin (as the browser does); the raw answer. */
export function postLogin(url: string, token: string, origin = url): Promise<Response> {
  return fetch(`${url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  })
}

/** Logs in with `token`; throws unless the server accepted it. */
export async function login(url: string, token: string): Promise<UiLogin> {
  const answer = await postLogin(url, token)
  const setCookie = answer.headers.get('set-cookie') ?? ''
  if (answer.status !== 303 || setCookie === '') throw new Error(`login refused: ${answer.status}`)
  const cookie = setCookie.split(';')[0]!
  const page = await (await fetch(`${url}/ui`, { headers: { cookie } })).text()
  const csrf = /name="homedb-csrf" content="([^"]+)"/.exec(page)?.[1]
  if (csrf === undefined) throw new Error('the page carries no CSRF token')
  return { cookie, csrf, setCookie }
}

/** An action of the page: a same-origin POST with the session's cookie and CSRF token (each can be overridden). */
export function action(
  url: string,
  path: string,
  session: UiLogin | undefined,
  body: unknown = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/ui/api/${path}`, {
    method: 'POST',
    headers: {
      origin: url,
      'content-type': 'application/json',
      ...(session === undefined ? {} : { cookie: session.cookie, 'homedb-csrf': session.csrf }),
      ...headers,
    },
    body: JSON.stringify(body),
  })
}

/** One server-sent event. */
export interface SseEvent {
  readonly event: string
  readonly data: unknown
}

/** A reader of the live feed. */
export interface SseReader {
  readonly status: number
  /** The next event (rejects if the stream ends first or `timeoutMs` passes). */
  next(timeoutMs?: number): Promise<SseEvent>
  /** Resolves once the server ended the stream. */
  ended(timeoutMs?: number): Promise<void>
  close(): void
}

/** Opens `/ui/events` (with `query`) with a session cookie. */
export async function openFeed(url: string, cookie: string | undefined, query = ''): Promise<SseReader> {
  const controller = new AbortController()
  const answer = await fetch(`${url}/ui/events${query}`, {
    headers: cookie === undefined ? {} : { cookie },
    signal: controller.signal,
  })
  const reader = answer.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let done = false
  const read = async (): Promise<SseEvent | undefined> => {
    for (;;) {
      const at = buffer.indexOf('\n\n')
      if (at >= 0) {
        const block = buffer.slice(0, at)
        buffer = buffer.slice(at + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) return { event, data: JSON.parse(data) }
        continue
      }
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }))
      if (chunk.done) {
        done = true
        return undefined
      }
      buffer += decoder.decode(chunk.value, { stream: true })
    }
  }
  const within = <T>(promise: Promise<T>, ms: number, what: string) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref()),
    ])
  return {
    status: answer.status,
    async next(timeoutMs = 10_000) {
      const event = await within(read(), timeoutMs, 'no event')
      if (event === undefined) throw new Error('the feed ended')
      return event
    },
    async ended(timeoutMs = 10_000) {
      await within(
        (async () => {
          while (!done) await read()
        })(),
        timeoutMs,
        'the feed did not end',
      )
    },
    close() {
      controller.abort()
    },
  }
}
