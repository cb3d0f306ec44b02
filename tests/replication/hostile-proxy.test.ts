// Behind a reverse proxy: X-Forwarded-For is believed only when the home is told to trust the proxy. Requests
// without a token are rate-limited per client address, so a client cannot escape its limit by sending the header
// itself, while a trusted proxy's clients each get their own.
import { type HomeServer, startHomeServer } from '@homedb/replication'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('hostile-proxy')
const rateLimit = { perSecond: 0.001, burst: 3 }
let server: HomeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function statuses(forwardedFor: (i: number) => string, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const answer = await fetch(`${server!.url}/v1/users/alice/log`, { headers: { 'x-forwarded-for': forwardedFor(i) } })
    await answer.arrayBuffer()
    out.push(answer.status)
  }
  return out
}

describe('X-Forwarded-For', () => {
  it('is ignored by default: every request from this socket address shares one bucket', async () => {
    server = await startHomeServer({ dataDir: next(), rateLimit })
    expect(await statuses((i) => `203.0.113.${i}`, 5)).toEqual([401, 401, 401, 429, 429])
  })

  it('is believed from a trusted proxy: each forwarded client has its own bucket', async () => {
    server = await startHomeServer({ dataDir: next(), rateLimit, trustProxy: '127.0.0.1' })
    expect(await statuses((i) => `203.0.113.${i}`, 5)).toEqual([401, 401, 401, 401, 401])
    expect(await statuses(() => '198.51.100.7', 5)).toEqual([401, 401, 401, 429, 429])
  })
})
