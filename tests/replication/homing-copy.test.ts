// A move's copy survives a snapshot download that fails: the writer replaced the snapshot meanwhile (`gone`), or the
// connection broke in the middle of it. Found by the simulation (tests/sim/): the target's copy job took `gone` for a
// fatal answer and the move aborted, and a snapshot cut halfway left the copy's log without its base snapshot. Now
// the copy starts over from the source's log info.
import {
  type DirectoryServer,
  type HomeServer,
  httpTransport,
  moveUser,
  ship,
  startDirectory,
  startHomeServer,
  type Transport,
  type TransportResponse,
} from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('homing-copy')
const ADMIN = 'homing-copy-admin-token'
const TOKEN = 'alice-token-for-tests'
const Core = schema({ files: lookupTable<string, { n: number }>() })
const retry = { baseMs: 10, maxMs: 200 }

let directory: DirectoryServer | undefined
let homes: HomeServer[] = []
afterEach(async () => {
  await Promise.all(homes.map((h) => h.close()))
  homes = []
  await directory?.close()
  directory = undefined
})

/** The target's way to other homes: its first snapshot download is told `gone`, its second is cut after 10 bytes. */
function failingSnapshots(): Transport & { failed: number } {
  const http = httpTransport()
  const transport = {
    failed: 0,
    async request(request: Parameters<Transport['request']>[0]): Promise<TransportResponse> {
      const response = await http.request(request)
      if (!request.url.includes('/snapshots/') || transport.failed >= 2) return response
      transport.failed++
      if (transport.failed === 1) {
        const body = JSON.stringify({ error: { code: 'gone', message: 'replaced meanwhile' } })
        return {
          status: 404,
          headers: {},
          body: (async function* () {
            yield Buffer.from(body)
          })(),
        }
      }
      return {
        ...response,
        body: (async function* () {
          for await (const chunk of response.body) {
            yield chunk.subarray(0, 10)
            break
          }
          throw Object.assign(new Error('ECONNRESET: the connection broke'), { code: 'ECONNRESET' })
        })(),
      }
    },
    close: () => http.close?.(),
  }
  return transport
}

describe('a move whose copy meets a failing snapshot download', () => {
  it('starts the copy over and completes; the writer goes on at the new home', async () => {
    directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
    const a = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
    const transport = failingSnapshots()
    const b = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url, transport })
    homes.push(a, b)
    await a.addUser('alice', { token: TOKEN })
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { directory: directory.url, user: 'alice', token: TOKEN, retry })
    for (let i = 0; i < 40; i++) db.files.insert(`f${i}`, { n: i })
    await db.compact()
    db.files.insert('after-compaction', { n: 1 })
    await shipper.flushed()
    await expect.poll(async () => (await a.service.users())[0]?.snapshot?.seq ?? 0).toBeGreaterThan(0)

    const moved = await moveUser({ directory: directory.url, user: 'alice', to: b.url, adminToken: ADMIN })
    expect(moved.epoch).toBe(2)
    expect(transport.failed).toBe(2)
    db.files.insert('at-the-new-home', { n: 2 })
    await shipper.flushed()
    expect(b.service.users().find((u) => u.name === 'alice')).toMatchObject({ state: 'active', epoch: 2 })
    await shipper.close()
    await db.close()
    transport.close?.()
  })
})
