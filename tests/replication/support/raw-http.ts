// Raw HTTP/1.1 over a TCP socket, for the hostile tests: requests no well-behaved client would send (a head that
// trickles in, a body shorter than its Content-Length, headers past any limit, a reader that never reads), and the
// answer as the server wrote it (status, headers, body) together with how the connection ended.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'

/** What came back on the socket. */
export interface RawAnswer {
  readonly status: number | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The wire error code of a JSON error body, if any. */
  readonly code: string | undefined
  /** Milliseconds from connecting until the server closed the connection (or the answer was complete). */
  readonly ms: number
}

/** Parts of a request written one after the other, `gapMs` apart (a trickle), then the socket is left open. */
export interface RawRequest {
  readonly parts: readonly (string | Uint8Array)[]
  readonly gapMs?: number
  /** Give up (and destroy the socket) after this long. Default 10 000 ms. */
  readonly timeoutMs?: number
}

function parse(bytes: Buffer, ms: number): RawAnswer {
  const text = bytes.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  const head = end < 0 ? text : text.slice(0, end)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = end < 0 ? '' : bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8')
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
  let code: string | undefined
  try {
    code = (JSON.parse(body) as { error?: { code?: string } }).error?.code
  } catch {
    code = undefined
  }
  return { status: status === undefined ? undefined : Number(status), headers, body, code, ms }
}

function dechunk(text: string): string {
  let out = ''
  let rest = text
  for (;;) {
    const line = rest.indexOf('\r\n')
    if (line < 0) return out
    const size = Number.parseInt(rest.slice(0, line), 16)
    if (!(size > 0)) return out
    out += rest.slice(line + 2, line + 2 + size)
    rest = rest.slice(line + 2 + size + 2)
  }
}

/** Sends `request` to `url`'s host and resolves once the server closed the connection or answered in full. */
export function rawRequest(url: string, request: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  const started = Date.now()
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(parse(Buffer.concat(chunks), Date.now() - started))
    }
    const timer = setTimeout(finish, request.timeoutMs ?? 10_000)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const answer = parse(Buffer.concat(chunks), 0)
      const length = Number(answer.headers['content-length'])
      if (Number.isFinite(length) && Buffer.byteLength(answer.body) >= length) finish()
    })
    socket.on('close', finish)
    socket.on('error', finish)
    void (async () => {
      for (const [i, part] of request.parts.entries()) {
        if (i > 0 && request.gapMs) await new Promise((r) => setTimeout(r, request.gapMs))
        if (done || socket.destroyed) return
        socket.write(part)
      }
    })()
  })
}

/** `METHOD path` with `headers` and an optional body, as one well-formed HTTP/1.1 request text. */
export function httpText(method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  if (body !== undefined && headers['content-length'] === undefined) lines.push(`Content-Length: ${body.byteLength}`)
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)])
}

/** A SHA-256 over every file (name and bytes) under `dir`, in name order: equal digests, equal stored bytes. */
export function digestDir(dir: string): string {
  const hash = createHash('sha256')
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) walk(path)
      else hash.update(path.slice(dir.length)).update(readFileSync(path))
    }
  }
  walk(dir)
  return hash.digest('hex')
}
