// Closing a hosted route table: a connection that never sent a request (a browser's preconnect, a client's spare
// socket) is ended at once instead of holding the close until it times out, while an answer in flight is still
// sent whole.
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { hostRoutes } from '../src/internal/route-host.js'
import type { Route } from '../src/wire.js'

function rawConnection(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket))
    socket.on('error', reject)
  })
}

describe('hostRoutes close', () => {
  it('ends connections that carry no request at once, and lets an answer in flight finish', async () => {
    let release: () => void = () => undefined
    const slow: Route = {
      method: 'GET',
      path: '/slow',
      handler: () =>
        new Promise((resolve) => {
          release = () => resolve({ status: 200, headers: {}, body: Buffer.from('finished') })
        }),
    }
    const host = await hostRoutes([slow], { port: 0, keepAliveTimeoutMs: 60_000, headersTimeoutMs: 60_000 })
    const idle = await rawConnection(host.url)
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()))
    const answer = fetch(`${host.url}/slow`).then((r) => r.text())
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = Date.now()
    const closed = host.close()
    await idleClosed
    expect(Date.now() - started).toBeLessThan(5_000)
    release()
    expect(await answer).toBe('finished')
    await closed
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
