// Tokens over their whole life on a real home: rotation refuses the old token everywhere, live tails included (a
// replica with a fixed token stops with REPLICATION_AUTH, so does a shipper), while clients given a token function
// pick up the new token and go on; the user quota; a shared tokenKey across restarts; `homedb users rotate`.
import { randomBytes } from 'node:crypto'
import {
  type HomeServer,
  openReplica,
  ReplicationError,
  replicaStatus,
  ship,
  startHomeServer,
} from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { runCli, startHomeProcess } from './support/home-process.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })
const next = tempDirs('hostile-auth')
const ADMIN = 'admin-token-for-tests'
let server: HomeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function waitingTails(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(/^homedb_waiting_tails (\d+)$/m.exec(text)?.[1])
}

const info = (url: string, user: string, token: string) =>
  fetch(`${url}/v1/users/${user}/log`, { headers: { authorization: `Bearer ${token}` } })

describe('token rotation', () => {
  it('ends a fixed-token replica’s live tail and a fixed-token shipper with REPLICATION_AUTH', async () => {
    server = await startHomeServer({ dataDir: next(), adminToken: ADMIN })
    const old = await server.addUser('alice')
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { home: server.url, user: 'alice', token: old })
    db.files.insert('a', { size: 1 })
    await shipper.flushed()
    const errors: unknown[] = []
    const replica = await openReplica(Core, {
      home: server.url,
      user: 'alice',
      token: old,
      waitMs: 10_000,
      onError: (e) => errors.push(e),
    })
    await replica.waitFor(db.seq, { timeoutMs: 5000 })
    // Wait until the replica's long-poll, opened with the old token, is waiting on the home.
    await expect.poll(() => waitingTails(server!.url), { timeout: 5000 }).toBe(1)
    const fresh = await server.rotateToken('alice')
    expect(fresh).not.toBe(old)
    await expect.poll(() => replicaStatus(replica).state, { timeout: 5000 }).toBe('failed')
    expect(replicaStatus(replica).lastError).toMatchObject({ code: 'REPLICATION_AUTH' })
    expect(errors.some((e) => e instanceof ReplicationError && e.code === 'REPLICATION_AUTH')).toBe(true)
    db.files.insert('b', { size: 2 })
    await expect(shipper.flushed()).rejects.toMatchObject({ code: 'REPLICATION_AUTH' })
    expect(shipper.status.state).toBe('failed')
    expect((await info(server.url, 'alice', old)).status).toBe(401)
    expect((await info(server.url, 'alice', fresh)).status).toBe(200)
    await replica.close()
    await shipper.close()
    await db.close()
  })

  it('lets clients with a token function continue on the new token after a rotation', async () => {
    server = await startHomeServer({ dataDir: next(), adminToken: ADMIN })
    let current = await server.addUser('alice')
    const calls = { shipper: 0, replica: 0 }
    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, {
      home: server.url,
      user: 'alice',
      token: () => {
        calls.shipper++
        return current
      },
    })
    const replica = await openReplica(Core, {
      home: server.url,
      user: 'alice',
      token: async () => {
        calls.replica++
        return current
      },
      waitMs: 10_000,
    })
    db.files.insert('a', { size: 1 })
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 5000 })
    current = await server.rotateToken('alice')
    db.files.insert('b', { size: 2 })
    await shipper.flushed()
    await replica.waitFor(db.seq, { timeoutMs: 5000 })
    expect(replica.files.get('b')).toEqual({ size: 2 })
    expect(shipper.status.state).not.toBe('failed')
    expect(replicaStatus(replica).state).not.toBe('failed')
    // Each asked at the start and again after a 401 (until it gave the new token).
    expect(calls.shipper).toBeGreaterThanOrEqual(2)
    expect(calls.replica).toBeGreaterThanOrEqual(2)
    await replica.close()
    await shipper.close()
    await db.close()
  })

  it('rotates with `homedb users rotate` on a running home and on a stopped one’s data dir', async () => {
    const dataDir = next()
    const home = await startHomeProcess(dataDir, ADMIN)
    try {
      const added = await runCli(['users', 'add', 'alice', '--home', home.url, '--admin-token', ADMIN])
      const first = /token: (\S+)/.exec(added.stdout)![1]!
      const rotated = await runCli(['users', 'rotate', 'alice', '--home', home.url, '--admin-token', ADMIN])
      expect(rotated.code).toBe(0)
      const second = /token: (\S+)/.exec(rotated.stdout)![1]!
      expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect((await info(home.url, 'alice', first)).status).toBe(401)
      expect((await info(home.url, 'alice', second)).status).toBe(200)
      const missing = await runCli(['users', 'rotate', 'nobody', '--home', home.url, '--admin-token', ADMIN])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/404 no-user/)
      const short = await runCli([
        'users',
        'rotate',
        'alice',
        '--home',
        home.url,
        '--admin-token',
        ADMIN,
        '--token',
        'short',
      ])
      expect(short.code).toBe(1)
      expect(short.stderr).toMatch(/400 bad-request: a token must be 16/)
      const badName = await runCli(['users', 'add', '../etc', '--home', home.url, '--admin-token', ADMIN])
      expect(badName.stderr).toMatch(/400 bad-user-name/)
    } finally {
      expect(await home.stop()).toBe(0)
    }
    const offline = await runCli(['users', 'rotate', 'alice', '--data', dataDir, '--token', 'offline-token-0123'])
    expect(offline.code).toBe(0)
    server = await startHomeServer({ dataDir, adminToken: ADMIN })
    expect((await info(server.url, 'alice', 'offline-token-0123')).status).toBe(200)
  })
})

describe('user quota', () => {
  it('refuses a user past maxUsers with REPLICATION_QUOTA, over HTTP with 403 quota, and changes nothing', async () => {
    server = await startHomeServer({ dataDir: next(), adminToken: ADMIN, maxUsers: 2 })
    await server.addUser('u1')
    await server.addUser('u2')
    await expect(server.addUser('u3')).rejects.toMatchObject({ code: 'REPLICATION_QUOTA', context: { maxUsers: 2 } })
    const answer = await fetch(`${server.url}/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'u3' }),
    })
    expect(answer.status).toBe(403)
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('quota')
    expect(server.service.users().map((u) => u.name)).toEqual(['u1', 'u2'])
  })
})

describe('a shared token key', () => {
  it('keeps tokens valid across restarts with the same key, and refuses them under another key', async () => {
    const dataDir = next()
    const tokenKey = randomBytes(32).toString('base64url')
    server = await startHomeServer({ dataDir, adminToken: ADMIN, tokenKey })
    const token = await server.addUser('alice')
    await server.close()
    server = await startHomeServer({ dataDir, adminToken: ADMIN, tokenKey })
    expect((await info(server.url, 'alice', token)).status).toBe(200)
    await server.close()
    server = await startHomeServer({ dataDir, adminToken: ADMIN, tokenKey: randomBytes(32).toString('base64url') })
    expect((await info(server.url, 'alice', token)).status).toBe(401)
    await expect(startHomeServer({ dataDir: next(), tokenKey: 'too-short' })).rejects.toMatchObject({
      code: 'REPLICATION_CONFIG',
    })
  })
})
