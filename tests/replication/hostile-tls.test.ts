// TLS: a home served over HTTPS with a certificate from a throwaway CA (made by openssl at test time). Clients given
// the CA ship, replicate and restore over it; a client without it is refused by certificate verification (and a
// shipper keeps its commits, retrying); `homedb serve --tls-cert/--tls-key` and `homedb status --ca` do the same.
import { mkdirSync } from 'node:fs'
import { type HomeServer, homeSource, openReplica, ship, startHomeServer } from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { runCli, startHomeProcess } from './support/home-process.js'
import { makeTestCa, type TestCa } from './support/test-ca.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })
const next = tempDirs('hostile-tls')
const ADMIN = 'admin-token-for-tests'
let tls: TestCa
let server: HomeServer

beforeAll(async () => {
  const dir = next()
  mkdirSync(dir, { recursive: true })
  tls = makeTestCa(dir)
  server = await startHomeServer({ dataDir: next(), adminToken: ADMIN, tls: { cert: tls.cert, key: tls.key } })
})
afterAll(() => server?.close())

describe('a home over HTTPS', () => {
  it('ships, replicates and restores over TLS for clients given the CA', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const token = await server.addUser('alice')
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { home: server.url, user: 'alice', token, ca: tls.ca })
    const replica = await openReplica(Core, { home: server.url, user: 'alice', token, ca: tls.ca, waitMs: 1000 })
    for (let i = 0; i < 50; i++) db.files.insert(`f${i}`, { size: i })
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 10_000 })
    expect(replica.stateHash()).toBe(db.stateHash())
    const restored = await openDb(Core, {
      dir: next(),
      bootstrap: homeSource({ home: server.url, user: 'alice', token, ca: tls.ca }),
    })
    expect(restored.stateHash()).toBe(db.stateHash())
    await restored.close()
    await replica.close()
    await shipper.close()
    await db.close()
  })

  it('refuses a client without the CA at certificate verification; a shipper keeps its commits and retries', async () => {
    const token = await server.addUser('bob')
    const source = homeSource({ home: server.url, user: 'bob', token })
    await expect(source.describe()).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { home: server.url, user: 'bob', token, retry: { baseMs: 5, maxMs: 20 } })
    db.files.insert('kept', { size: 1 })
    await expect.poll(() => shipper.status.lastError?.message ?? '', { timeout: 5000 }).toMatch(/certificate/)
    expect(shipper.status).toMatchObject({ ackedSeq: 0, lagCommits: 1 })
    expect(['backoff', 'connecting']).toContain(shipper.status.state)
    await shipper.close()
    await db.close()
  })

  it('answers a plain HTTP request on the TLS port with no HTTP at all', async () => {
    await expect(fetch(server.url.replace('https:', 'http:'), { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
  })

  it('serves HTTPS with `homedb serve --tls-cert --tls-key`, and `homedb status --ca` reads it', async () => {
    const home = await startHomeProcess(next(), ADMIN, 0, ['--tls-cert', tls.certPath, '--tls-key', tls.keyPath])
    try {
      expect(home.url).toMatch(/^https:/)
      const added = await runCli([
        'users',
        'add',
        'carol',
        '--home',
        home.url,
        '--admin-token',
        ADMIN,
        '--ca',
        tls.caPath,
      ])
      expect(added.code).toBe(0)
      const status = await runCli(['status', home.url, '--admin-token', ADMIN, '--ca', tls.caPath, '--json'])
      expect(status.code).toBe(0)
      expect((JSON.parse(status.stdout) as { users: { name: string }[] }).users.map((u) => u.name)).toEqual(['carol'])
      const without = await runCli(['status', home.url, '--admin-token', ADMIN])
      expect(without.code).toBe(1)
      expect(without.stderr).toMatch(/certificate/)
    } finally {
      expect(await home.stop()).toBe(0)
    }
  })
})
