// Client behaviour that must hold whatever the network does: a shipper or replica that keeps getting the same
// answer at the same position slows down and stops with REPLICATION_LOOP (never spins), a damaged frame in an
// answer is never applied, and snapshots reach the home after compactions and as a new base.
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
  type TransportRequest,
} from '../src/index.js'
import { tempDir } from './support/temp-dir.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })
const next = tempDir()
const token = 'alice-token-0123456789'
let server: HomeServer
const retry = { baseMs: 1, maxMs: 5, loopThreshold: 3, loopLimit: 6 }

beforeAll(async () => {
  server = await startHomeServer({ dataDir: next(), adminToken: 'admin-token-for-tests' })
  await server.addUser('alice', { token })
})
afterAll(() => server.close())

function body(text: string): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield Buffer.from(text)
  })()
}

/** Answers every append with the same 409 conflict, and log info with a home head of seq 0. */
function stuckHome(counter: { appends: number }): Transport {
  return {
    async request(request: TransportRequest) {
      if (request.url.endsWith('/append')) {
        counter.appends++
        const error = { error: { code: 'conflict', message: 'stuck', head: null } }
        return { status: 409, headers: {}, body: body(JSON.stringify(error)) }
      }
      return { status: 200, headers: {}, body: body(JSON.stringify({ user: 'alice', epoch: 1, log: null })) }
    },
  }
}

describe('loop detection', () => {
  it('stops a shipper that gets the same answer at the same position, after a bounded number of requests', async () => {
    const db = await openDb(Core)
    const counter = { appends: 0 }
    const shipper = ship(db, {
      home: 'http://home.invalid',
      user: 'alice',
      token,
      transport: stuckHome(counter),
      retry,
    })
    db.files.insert('a', { size: 1 })
    await expect(shipper.flushed()).rejects.toMatchObject({
      code: 'REPLICATION_LOOP',
      context: { answer: 'conflict', seq: 0 },
    })
    expect(shipper.status.state).toBe('failed')
    expect(counter.appends).toBe(retry.loopLimit)
    await shipper.close()
    await db.close()
  })

  it('never applies a damaged frame: a replica whose answers are always corrupted stops with REPLICATION_LOOP', async () => {
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { home: server.url, user: 'alice', token })
    for (let i = 0; i < 10; i++) db.files.insert(`f${i}`, { size: i })
    await shipper.flushed()
    const inner = httpTransport()
    const flipping: Transport = {
      async request(request) {
        const response = await inner.request(request)
        if (!request.url.includes('/frames')) return response
        const chunks: Buffer[] = []
        for await (const c of response.body) chunks.push(Buffer.from(c))
        const bytes = Buffer.concat(chunks)
        if (bytes.byteLength > 40) bytes[40]! ^= 1
        return {
          ...response,
          body: (async function* () {
            yield bytes
          })(),
        }
      },
    }
    const replica = await openReplica(Core, {
      home: server.url,
      user: 'alice',
      token,
      transport: flipping,
      retry,
    }).catch((e: unknown) => e)
    expect(replica).toMatchObject({ code: 'REPLICATION_LOOP' })
    await shipper.close()
    await db.close()
    inner.close?.()
  })
})

describe('snapshots', () => {
  it('installs a new base when the writer compacted past the home’s head, keeping the old generation', async () => {
    await server.addUser('bea', { token })
    const db = await openDb(Core, { dir: next(), autoCompact: false })
    let shipper = ship(db, { home: server.url, user: 'bea', token })
    for (let i = 0; i < 5; i++) db.files.insert(`a${i}`, { size: i })
    await shipper.flushed()
    await shipper.close() // no hold any more: compaction may release what the home has not got
    for (let i = 0; i < 50; i++) db.files.insert(`b${i}`, { size: i })
    await db.compact()
    shipper = ship(db, { home: server.url, user: 'bea', token })
    const notices: string[] = []
    shipper.onNotice((n) => {
      if (n.type === 'snapshot') notices.push(`${n.seq}:${n.base}`)
    })
    db.files.insert('c', { size: 0 })
    await shipper.flushed()
    expect(notices).toEqual([`55:true`])
    const bea = server.service.users().find((u) => u.name === 'bea')!
    expect(bea).toMatchObject({ generation: 2, snapshot: { seq: 55 }, head: { seq: 56 } })
    const replica = await openReplica(Core, { home: server.url, user: 'bea', token })
    expect(replica.stateHash()).toBe(db.stateHash())
    expect(replicaStatus(replica).seq).toBe(56)
    // A later local compaction is shipped and stored as the home's latest snapshot.
    db.files.insert('d', { size: 0 })
    await db.compact()
    db.files.insert('e', { size: 0 })
    await shipper.flushed()
    await expect.poll(() => server.service.users().find((u) => u.name === 'bea')!.snapshot?.seq).toBe(57)
    await replica.close()
    await shipper.close()
    await db.close()
  })
})
