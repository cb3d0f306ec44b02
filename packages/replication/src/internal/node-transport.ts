// The default Transport: node:http / node:https with keep-alive agents. Request bodies may be streamed; response
// bodies are the IncomingMessage itself (an async iterable of Buffers), so large answers are never buffered here.
import http from 'node:http'
import https from 'node:https'
import type { Transport, TransportRequest, TransportResponse } from '../transport.js'

function headersOf(message: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

async function writeBody(req: http.ClientRequest, body: TransportRequest['body']): Promise<void> {
  if (body === undefined) return void req.end()
  if (body instanceof Uint8Array) return void req.end(body)
  for await (const chunk of body) {
    if (!req.write(chunk)) await new Promise<void>((resolve) => req.once('drain', resolve))
  }
  req.end()
}

export function createNodeTransport(
  maxSockets: number,
  timeoutMs: number,
  ca: readonly (string | Uint8Array)[] | undefined,
): Transport {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({
      keepAlive: true,
      maxSockets,
      ...(ca === undefined ? {} : { ca: ca.map((c) => (typeof c === 'string' ? c : Buffer.from(c))) }),
    }),
  }
  return {
    request(request: TransportRequest): Promise<TransportResponse> {
      const url = new URL(request.url)
      const secure = url.protocol === 'https:'
      const lib = secure ? https : http
      return new Promise((resolve, reject) => {
        const streamed = request.body !== undefined && !(request.body instanceof Uint8Array)
        const headers: Record<string, string> = { ...request.headers }
        if (request.body instanceof Uint8Array) headers['content-length'] = String(request.body.byteLength)
        if (streamed) headers['transfer-encoding'] = 'chunked'
        const req = lib.request(url, {
          method: request.method,
          headers,
          agent: secure ? agents.https : agents.http,
          signal: request.signal,
        })
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)))
        req.on('error', reject)
        req.on('response', (res) => {
          res.setTimeout(timeoutMs, () => res.destroy(new Error(`the body from ${url.host} stalled`)))
          resolve({ status: res.statusCode ?? 0, headers: headersOf(res), body: res })
        })
        writeBody(req, request.body).catch((error: unknown) => req.destroy(error as Error))
      })
    },
    close() {
      agents.http.destroy()
      agents.https.destroy()
    },
  }
}
