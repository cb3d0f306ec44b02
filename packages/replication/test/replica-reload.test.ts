// A replica that has to reload from the home's snapshot (the home answered need-snapshot) keeps following when the
// snapshot download fails halfway: a connection cut in the middle of the body, or a snapshot the writer replaced
// meanwhile (`gone`). Found by the simulation (tests/sim/): such a reload used to stop the replica for good.
import { lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type HomeServer,
  httpTransport,
  openReplica,
  replicaStatus,
  ship,
  startHomeServer,
  type Transport,
  type TransportResponse,
} from '../src/index.js'
import { tempDir } from './support/temp-dir.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })
const next = tempDir()
const token = 'alice-token-0123456789'
const retry = { baseMs: 1, maxMs: 5 }
let server: HomeServer

beforeAll(async () => {
  server = await startHomeServer({ dataDir: next(), adminToken: 'admin-token-for-tests' })
  await server.addUser('alice', { token })
})
afterAll(() => server.close())

function json(status: number, value: unknown): TransportResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: (async function* () {
      yield Buffer.from(JSON.stringify(value))
    })(),
  }
}

/** A body that yields its first `keep` bytes, then breaks like a connection reset. */
async function* cutAfter(body: AsyncIterable<Uint8Array>, keep: number): AsyncGenerator<Uint8Array> {
  let sent = 0
  for await (const chunk of body) {
    const piece = chunk.subarray(0, Math.max(0, keep - sent))
    if (piece.byteLength > 0) yield piece
    sent += piece.byteLength
    if (sent >= keep) break
  }
  throw Object.assign(new Error('ECONNRESET: the connection broke'), { code: 'ECONNRESET' })
}

/**
 * The real network, except that once `armed`, the next tail request is told need-snapshot, and the two snapshot
 * downloads after it fail: the first with `gone`, the second cut halfway.
 */
function flakyReloads(): Transport & { armed: boolean; failed: number } {
  const http = httpTransport()
  let failing = 0
  const flaky = {
    armed: false,
    failed: 0,
    async request(request: Parameters<Transport['request']>[0]): Promise<TransportResponse> {
      if (flaky.armed && request.url.includes('/frames?')) {
        flaky.armed = false
        failing = 2
        return json(409, { error: { code: 'need-snapshot', message: 'load the snapshot' } })
      }
      const response = await http.request(request)
      if (!request.url.includes('/snapshots/') || failing === 0) return response
      failing--
      flaky.failed++
      if (failing === 1) return json(404, { error: { code: 'gone', message: 'replaced' } })
      return { ...response, body: cutAfter(response.body, 10) }
    },
    close: () => http.close?.(),
  }
  return flaky
}

describe('replica reloads', () => {
  it('keeps following when its reload meets a replaced snapshot and a body cut halfway', async () => {
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { home: server.url, user: 'alice', token, retry })
    for (let i = 0; i < 30; i++) db.files.insert(`f${i}`, { size: i })
    await db.compact()
    for (let i = 0; i < 5; i++) db.files.insert(`g${i}`, { size: i })
    await shipper.flushed()
    await expect.poll(async () => (await fetchInfo()).snapshot?.seq ?? 0).toBeGreaterThan(0)

    const transport = flakyReloads()
    const replica = await openReplica(Core, { home: server.url, user: 'alice', token, transport, retry, waitMs: 200 })
    const resets: number[] = []
    replica.onCommit((e) => {
      if (e.reset) resets.push(e.seq)
    })
    await replica.waitFor(db.seq, { timeoutMs: 3_000 })
    transport.armed = true
    db.files.insert('during', { size: 1 })
    await expect.poll(() => resets.length, { timeout: 3_000 }).toBeGreaterThan(0)
    db.files.insert('after', { size: 2 })
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 3_000 })
    expect(transport.failed).toBe(2)
    expect(replicaStatus(replica).state).not.toBe('failed')
    expect(replica.stateHash()).toBe(db.stateHash())
    await replica.close()
    transport.close?.()
    await shipper.close()
    await db.close()
  })
})

async function fetchInfo(): Promise<{ snapshot: { seq: number } | null }> {
  const answer = await fetch(`${server.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${token}` } })
  return ((await answer.json()) as { log: { snapshot: { seq: number } | null } }).log
}
