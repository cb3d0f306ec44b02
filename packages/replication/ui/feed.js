// @ts-check
// The live feed: one EventSource on /ui/events (the session cookie goes along), reopened when the view or its
// filter changes. It reports its status for the header (live, reconnecting…); an `end` event (the session ended)
// sends the page back to the login form.

/**
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'closed'} FeedStatus
 */

export class Feed {
  /**
   * @param {(state: any) => void} onState
   * @param {(status: FeedStatus) => void} onStatus
   */
  constructor(onState, onStatus) {
    this.onState = onState
    this.onStatus = onStatus
    /** @type {EventSource | undefined} */
    this.source = undefined
    this.query = ''
  }

  /**
   * (Re)opens the feed with this query, unless it is already open with it.
   * @param {Record<string, string>} query
   */
  open(query) {
    const q = new URLSearchParams(query).toString()
    if (this.source !== undefined && this.query === q && this.source.readyState !== EventSource.CLOSED) return
    this.close()
    this.query = q
    const source = new EventSource(`/ui/events${q === '' ? '' : `?${q}`}`)
    this.source = source
    this.onStatus('connecting')
    source.addEventListener('state', (event) => {
      this.onStatus('live')
      this.onState(JSON.parse(/** @type {MessageEvent} */ (event).data))
    })
    source.addEventListener('end', () => {
      this.close()
      window.location.assign('/ui')
    })
    source.addEventListener('error', () => {
      this.onStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting')
    })
  }

  close() {
    this.source?.close()
    this.source = undefined
  }
}
