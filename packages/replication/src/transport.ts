// How clients reach a home: one request, one response with a streamed body. The default is node:http(s) with
// keep-alive (http-transport.ts); tests and the simulation pass their own (issue 18 routes requests straight to a
// HomeService).

/** A request as a client makes it. */
export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Absolute URL (`http://host:port/v1/...`). */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Bytes, or a stream of bytes (snapshot uploads). */
  readonly body?: Uint8Array | AsyncIterable<Uint8Array>
  /** Aborts the request (and the response body) when it fires. */
  readonly signal?: AbortSignal
}

/** The answer: status, lower-case headers and the body as a stream. */
export interface TransportResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: AsyncIterable<Uint8Array>
}

/** Sends requests. Implementations must reject (never hang) when the connection fails or `signal` aborts. */
export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>
  /** Releases pooled connections. */
  close?(): void
}
