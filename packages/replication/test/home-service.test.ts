// The home's protocol core over real HTTP: appends are compare-and-set on the head and idempotent, bad input gets
// a stable code and leaves the log untouched, reads serve frames, pages and long-polls.
import { openLog } from '@homedb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HomeServer, httpTransport, startHomeServer } from '../src/index.js'
import { splitFrames, verifyFrames } from '../src/internal/frames.js'
import { HomeClient } from '../src/internal/home-client.js'
import { tempDir } from './support/temp-dir.js'

const next = tempDir()
const bytes = (t: string) => new TextEncoder().encode(t)
let server: HomeServer
const transport = httpTransport()
let client: HomeClient

async function writerLog(n: number, prefix = 'c') {
  const log = await openLog(undefined, { durability: 'memory' })
  for (let i = 1; i <= n; i++) log.append(bytes(`${prefix}${i}`))
  const frames: Uint8Array[] = []
  for await (const c of log.readEncoded({ from: 0 })) frames.push(c.frame)
  return { log, frames }
}

beforeAll(async () => {
  server = await startHomeServer({ dataDir: next(), adminToken: 'admin-secret-for-tests', pageCommits: 4 })
  await server.addUser('alice', { token: 'alice-token-for-tests' })
  client = new HomeClient({ home: server.url, user: 'alice', token: 'alice-token-for-tests', transport })
})
afterAll(async () => {
  await server.close()
  transport.close?.()
})

describe('append', () => {
  it('creates the log, appends, accepts a retry idempotently and refuses a gap and a fork', async () => {
    const { log, frames } = await writerLog(10)
    const genesis = { logId: log.logId, seq: 0, chain: '0000000000000000' }
    const first = await client.append(genesis, 1, Buffer.concat(frames.slice(0, 6)))
    expect(first).toMatchObject({ ok: true, head: { seq: 6 } })
    const retry = await client.append(genesis, 1, Buffer.concat(frames.slice(0, 6)))
    expect(retry).toMatchObject({ ok: true, head: { seq: 6 } })
    const gap = await client.append(
      { ...genesis, seq: 7, chain: 'ffffffffffffffff' },
      1,
      Buffer.concat(frames.slice(7)),
    )
    expect(gap).toMatchObject({ ok: false, code: 'gap', head: { seq: 6 } })
    const fork = await writerLog(8, 'x')
    const forked = await client.append(genesis, 1, Buffer.concat(fork.frames.slice(0, 8)))
    expect(forked).toMatchObject({ ok: false, code: 'diverged' })
    if (!first.ok) throw new Error(first.code)
    const stale = await client.append(first.head, 2, Buffer.alloc(0))
    expect(stale).toMatchObject({ ok: false, code: 'stale-epoch', epoch: 1 })
    const info = await client.info()
    expect(info).toMatchObject({ log: { logId: log.logId, head: { seq: 6 } } })
  })

  it('refuses a frame with a flipped bit with bad-frame and stores nothing', async () => {
    const info = (await client.info()) as { log: { head: { logId: string; seq: number; chain: string } } }
    const { frames } = await writerLog(10)
    const bad = Buffer.from(frames[6]!)
    bad[bad.byteLength - 1]! ^= 1
    const answer = await client.append(info.log.head, 1, bad)
    expect(answer).toMatchObject({ ok: false, code: 'bad-frame' })
    expect(await client.info()).toMatchObject({ log: { head: { seq: 6 } } })
  })
})

describe('reads', () => {
  it('serves frames from a position, pages with an ETag, and long-polls at the head', async () => {
    const info = (await client.info()) as {
      log: { logId: string; head: { logId: string; seq: number; chain: string } }
    }
    const from = { logId: info.log.logId, seq: 0, chain: '0000000000000000' }
    const tail = await client.frames(from, 0, '')
    if (!tail.ok) throw new Error(tail.code)
    const got = verifyFrames(splitFrames(tail.body, 1 << 20), from)
    expect(got.map((f) => f.seq)).toEqual([1, 2, 3, 4]) // stops at the page boundary
    const page = await client.page(info.log.logId, 0)
    if (!page.ok) throw new Error(page.code)
    expect(Buffer.compare(Buffer.from(page.body), Buffer.from(tail.body))).toBe(0)
    const unsealed = await client.page(info.log.logId, 1)
    expect(unsealed).toMatchObject({ ok: false, code: 'not-sealed' })
    const started = Date.now()
    const waited = await client.frames(info.log.head, 150, 'c1')
    expect(waited).toMatchObject({ ok: true })
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('answers unauthorized alike for a wrong token and a missing user', async () => {
    const wrong = new HomeClient({ home: server.url, user: 'alice', token: 'nope', transport })
    const missing = new HomeClient({ home: server.url, user: 'bob', token: 'alice-token-for-tests', transport })
    await expect(wrong.info()).rejects.toMatchObject({ code: 'REPLICATION_AUTH' })
    await expect(missing.info()).rejects.toMatchObject({ code: 'REPLICATION_AUTH' })
  })
})
