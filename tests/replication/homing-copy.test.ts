// A move's copy on its target, under what the simulation (tests/sim/) found: a snapshot download that fails (the
// writer replaced the snapshot meanwhile, `gone`, or the connection broke in the middle of it) made the copy fail
// and the move abort, or left the copy's log without its base snapshot — the copy now starts over from the source's
// log info; and a second move of the same user to the same target took the reservation over after the first one's
// copy had reached the frozen head, then dropped it when it aborted, so the first move's switch named a home that no
// longer held the user — a reservation that reached is now refused to other moves. Also (found by a kill -9 test
// whose mover sometimes aborted): the writer shipped a newer snapshot while the copy was reading the commits after
// an older start, the source released them and answered the copy's next read `need-snapshot`, which failed the
// copy; it now starts over from the newest snapshot too.
import { httpTransport, MoveError, moveUser, ship, type Transport, type TransportResponse } from '@homedb/replication'
import { type Db, lookupTable, openDb, schema } from '@homedb/tables'
import { describe, expect, it } from 'vitest'
import { localDeployments } from './support/deployment.js'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('homing-copy')
const ADMIN = 'homing-copy-admin-token'
const TOKEN = 'alice-token-for-tests'
const Core = schema({ files: lookupTable<string, { n: number }>() })
const retry = { baseMs: 10, maxMs: 200 }

const deploy = localDeployments(next, ADMIN)

/** A home's refusal as the transport hands it over: `{ error: { code, message } }`. */
function refusal(status: number, code: string, message: string): TransportResponse {
  const body = JSON.stringify({ error: { code, message } })
  return {
    status,
    headers: {},
    body: (async function* () {
      yield Buffer.from(body)
    })(),
  }
}

type Home = Awaited<ReturnType<typeof deploy>>['homes'][number]

/**
 * Alice lives on the first of two homes with a writer shipping to it (40 rows); `before` does what the test needs
 * there, then she is moved to the second, whose way to other homes is `transport`: the move completes, and the writer
 * goes on at the new home.
 */
async function moveThrough(
  transport: Transport,
  before: (db: Db<typeof Core>, source: Home) => Promise<void>,
): Promise<void> {
  const { directory, homes } = await deploy(2, (i) => (i === 1 ? { transport } : {}))
  const [a, b] = [homes[0]!, homes[1]!]
  await a.addUser('alice', { token: TOKEN })
  const db = await openDb(Core, { dir: next() })
  const shipper = ship(db, { directory: directory.url, user: 'alice', token: TOKEN, retry })
  for (let i = 0; i < 40; i++) db.files.insert(`f${i}`, { n: i })
  await before(db, a)
  await shipper.flushed()
  const moved = await moveUser({ directory: directory.url, user: 'alice', to: b.url, adminToken: ADMIN })
  expect(moved.epoch).toBe(2)
  db.files.insert('at-the-new-home', { n: 2 })
  await shipper.flushed()
  expect(b.service.users().find((u) => u.name === 'alice')).toMatchObject({ state: 'active', epoch: 2 })
  await shipper.close()
  await db.close()
  transport.close?.()
}

/** The target's way to other homes: its first snapshot download is told `gone`, its second is cut after 10 bytes. */
function failingSnapshots(): Transport & { failed: number } {
  const http = httpTransport()
  const transport = {
    failed: 0,
    async request(request: Parameters<Transport['request']>[0]): Promise<TransportResponse> {
      const response = await http.request(request)
      if (!request.url.includes('/snapshots/') || transport.failed >= 2) return response
      transport.failed++
      if (transport.failed === 1) return refusal(404, 'gone', 'replaced meanwhile')
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
    const transport = failingSnapshots()
    await moveThrough(transport, async (db, source) => {
      await db.compact()
      db.files.insert('after-compaction', { n: 1 })
      await expect.poll(async () => (await source.service.users())[0]?.snapshot?.seq ?? 0).toBeGreaterThan(0)
    })
    expect(transport.failed).toBe(2)
  })
})

/** The target's way to other homes: its first read of frames is answered `need-snapshot`, as a source that released them. */
function releasedFrames(): Transport & { refused: number } {
  const http = httpTransport()
  const transport = {
    refused: 0,
    async request(request: Parameters<Transport['request']>[0]): Promise<TransportResponse> {
      if (!request.url.includes('/frames?') || transport.refused > 0) return http.request(request)
      transport.refused++
      return refusal(409, 'need-snapshot', 'the log no longer holds that seq')
    },
    close: () => http.close?.(),
  }
  return transport
}

describe('a move whose copy is told the commits it needs next were released', () => {
  it('starts the copy over from the newest snapshot and completes', async () => {
    const transport = releasedFrames()
    await moveThrough(transport, async () => {})
    expect(transport.refused).toBe(1)
  })
})

describe('two moves of one user to one target', () => {
  it('refuses the second its reservation once the first one reached the frozen head; the first completes', async () => {
    const { directory, homes } = await deploy(2)
    const [a, b] = [homes[0]!, homes[1]!]
    await a.addUser('alice', { token: TOKEN })
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { directory: directory.url, user: 'alice', token: TOKEN, retry })
    for (let i = 0; i < 10; i++) db.files.insert(`f${i}`, { n: i })
    await shipper.flushed()

    // The first mover runs the second move to its end right before its own switch.
    const url = directory.url
    let second: unknown
    const http = httpTransport()
    const first: Transport = {
      async request(request) {
        const swap = request.url.endsWith('/alice/swap') ? JSON.parse(String(request.body)) : undefined
        if (swap?.next?.home === b.url && second === undefined) {
          second = await moveUser({ directory: url, user: 'alice', to: b.url, adminToken: ADMIN }).catch((e) => e)
        }
        return http.request(request)
      },
    }
    const moved = await moveUser({ directory: url, user: 'alice', to: b.url, adminToken: ADMIN, transport: first })
    http.close?.()
    expect(second).toBeInstanceOf(MoveError)
    expect((second as MoveError).context).toMatchObject({ step: 'reserve', outcome: 'aborted' })
    expect(moved.epoch).toBe(2)
    db.files.insert('at-the-new-home', { n: 1 })
    await shipper.flushed()
    expect(b.service.users().find((u) => u.name === 'alice')).toMatchObject({ state: 'active', epoch: 2 })
    await shipper.close()
    await db.close()
  })
})
