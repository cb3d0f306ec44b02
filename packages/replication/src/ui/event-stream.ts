// The operator page's live feed as server-sent events (`text/event-stream`): one event about once a second and
// soon after a change, for as long as the page stays. It is produced only as fast as the client reads it — the
// next event is built when the previous one has been taken (the body is a pull stream) — so a page that stops
// reading pins one event, until the server's send timeout cuts it. It ends when the client goes, the session
// ends or the server closes, and gives back its place among the server's streams.
import type { Clock } from '../clock.js'
import type { WireResponse } from '../wire.js'
import { UI_HEADERS } from './ui-http.js'

/** One event: its name and its data (sent as JSON). */
export interface StreamEvent {
  readonly event: string
  readonly data: unknown
}

/** What an {@link eventStream} needs. */
export interface EventStreamOptions {
  /** Fires when the client went away or the server closes. */
  readonly signal: AbortSignal
  readonly clock: Clock
  /** Longest time between two events, ms (the feed's heartbeat and the figures' cadence). */
  readonly intervalMs: number
  /** Shortest time between two events, ms (changes arriving faster are coalesced). */
  readonly minGapMs: number
  /** Resolves after `ms`, or sooner when something changed or `signal` fired. */
  waitForChange(ms: number, signal: AbortSignal): Promise<void>
  /** The next event; `undefined` ends the stream (after an `end` event, the stream ends too). */
  next(): Promise<StreamEvent | undefined>
  /** Called once when the stream ends, however it ends. */
  onEnd(): void
}

const encoder = new TextEncoder()

function frame(event: StreamEvent): Uint8Array {
  // JSON never holds a raw newline, so the data is one `data:` line.
  return encoder.encode(`event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`)
}

async function* events(options: EventStreamOptions): AsyncGenerator<Uint8Array> {
  try {
    // EventSource reconnects after this many ms if the connection drops.
    yield encoder.encode('retry: 3000\n\n')
    while (!options.signal.aborted) {
      const event = await options.next()
      if (event === undefined || options.signal.aborted) return
      yield frame(event)
      if (event.event === 'end') return
      const started = options.clock.now()
      await options.waitForChange(options.intervalMs, options.signal)
      const rest = options.minGapMs - (options.clock.now() - started)
      if (rest > 0) await options.clock.sleep(rest, options.signal)
    }
  } finally {
    options.onEnd()
  }
}

/**
 * The answer that streams the events (never cached; proxies are asked not to buffer it). `onEnd` runs once: when
 * the stream ends, or when `signal` fires first (a body never read to its end is never resumed).
 */
export function eventStream(options: EventStreamOptions): WireResponse {
  let ended = false
  const onEnd = () => {
    if (ended) return
    ended = true
    options.signal.removeEventListener('abort', onEnd)
    options.onEnd()
  }
  options.signal.addEventListener('abort', onEnd, { once: true })
  if (options.signal.aborted) onEnd()
  return {
    status: 200,
    headers: {
      ...UI_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
    body: events({ ...options, onEnd }),
  }
}
