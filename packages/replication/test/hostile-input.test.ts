// Bad input changes nothing: every malformed or refused request gets a 4xx with its stable wire code, and the
// user's stored log stays byte for byte what it was.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openLog } from '@homedb/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HomeServer, startHomeServer } from '../src/index.js'
import { tempDir } from './support/temp-dir.js'

const next = tempDir()
const token = 'alice-token-0123456789'
let server: HomeServer
let dataDir: string
let logId: string
let head: string

function digest(dir: string): string {
  const hash = createHash('sha256')
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) walk(path)
      else hash.update(name).update(readFileSync(path))
    }
  }
  walk(dir)
  return hash.digest('hex')
}

async function frames(n: number, prefix = 'c') {
  const log = await openLog(undefined, { durability: 'memory' })
  for (let i = 1; i <= n; i++) log.append(new TextEncoder().encode(`${prefix}${i}`))
  const out: Uint8Array[] = []
  for await (const c of log.readEncoded({ from: 0 })) out.push(c.frame)
  return { log, frames: out }
}

function append(user: string, headers: Record<string, string>, body: Uint8Array, auth = token) {
  return fetch(`${server.url}/v1/users/${user}/append`, {
    method: 'POST',
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/vnd.homedb.frames', ...headers },
    body,
  })
}

beforeAll(async () => {
  dataDir = next()
  server = await startHomeServer({ dataDir, adminToken: 'admin-token-for-tests', maxAppendBytes: 4096 })
  await server.addUser('alice', { token })
  const w = await frames(5)
  logId = w.log.logId
  const ok = await append(
    'alice',
    { 'homedb-position': `${logId}:0:0000000000000000`, 'homedb-epoch': '1' },
    Buffer.concat(w.frames),
  )
  expect(ok.status).toBe(200)
  const body = (await ok.json()) as { head: { seq: number; chain: string } }
  head = `${logId}:${body.head.seq}:${body.head.chain}`
})
afterAll(() => server.close())

describe('hostile input', () => {
  it.each([
    [
      'a body over the limit',
      413,
      'too-large',
      () => append('alice', { 'homedb-position': head, 'homedb-epoch': '1' }, new Uint8Array(8192)),
    ],
    [
      'a truncated frame',
      400,
      'bad-frame',
      () => append('alice', { 'homedb-position': head, 'homedb-epoch': '1' }, new Uint8Array([40, 0, 0, 0, 1])),
    ],
    [
      'a malformed position',
      400,
      'bad-request',
      () => append('alice', { 'homedb-position': 'nope', 'homedb-epoch': '1' }, new Uint8Array()),
    ],
    ['no epoch', 400, 'bad-request', () => append('alice', { 'homedb-position': head }, new Uint8Array())],
    [
      'a stale epoch',
      409,
      'stale-epoch',
      () => append('alice', { 'homedb-position': head, 'homedb-epoch': '7' }, new Uint8Array()),
    ],
    [
      'another log id',
      409,
      'incompatible',
      () =>
        append(
          'alice',
          { 'homedb-position': `${'0'.repeat(32)}:5:${'0'.repeat(16)}`, 'homedb-epoch': '1' },
          new Uint8Array(),
        ),
    ],
    [
      'a gap',
      409,
      'gap',
      () =>
        append('alice', { 'homedb-position': `${logId}:9:${'0'.repeat(16)}`, 'homedb-epoch': '1' }, new Uint8Array()),
    ],
    [
      'a wrong token',
      401,
      'unauthorized',
      () => append('alice', { 'homedb-position': head, 'homedb-epoch': '1' }, new Uint8Array(), 'wrong'),
    ],
    [
      'no such user',
      401,
      'unauthorized',
      () => append('bob', { 'homedb-position': head, 'homedb-epoch': '1' }, new Uint8Array()),
    ],
    [
      'a user name with a path in it',
      400,
      'bad-user-name',
      () => append('..%2Falice', { 'homedb-position': head, 'homedb-epoch': '1' }, new Uint8Array()),
    ],
    [
      'an admin call without the admin token',
      401,
      'unauthorized',
      () =>
        fetch(`${server.url}/v1/admin/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: '{"name":"eve"}',
        }),
    ],
    [
      'a frame with a flipped CRC bit',
      400,
      'bad-frame',
      async () => {
        const w = await frames(6)
        const bad = Buffer.from(w.frames[5]!)
        bad[6]! ^= 1
        return append('alice', { 'homedb-position': head, 'homedb-epoch': '1' }, bad)
      },
    ],
    [
      'a forked frame',
      409,
      'diverged',
      async () => {
        const w = await frames(5, 'x')
        return append(
          'alice',
          { 'homedb-position': `${logId}:0:0000000000000000`, 'homedb-epoch': '1' },
          Buffer.concat(w.frames),
        )
      },
    ],
  ])('refuses %s with %i %s and leaves the stored log untouched', async (_what, status, code, send) => {
    const before = digest(join(dataDir, 'users'))
    const answer = await send()
    expect(answer.status).toBe(status)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(code)
    expect(digest(join(dataDir, 'users'))).toBe(before)
  })

  it('answers health and metrics', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    for (const name of [
      'homedb_users',
      'homedb_open_logs',
      'homedb_appends_total',
      'homedb_append_bytes_total',
      'homedb_append_fsync_seconds',
      'homedb_replica_lag_commits',
    ]) {
      expect(metrics).toContain(name)
    }
  })
})
