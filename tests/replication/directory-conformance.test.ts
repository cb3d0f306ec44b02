// One contract, every backend (TanStack DB's conformance-suite idea): the embedded directory in process, the same
// over HTTP, and etcd (a real etcd process on loopback) register, compare-and-set, list, watch and keep the token
// key the same way; concurrent compare-and-sets have exactly one winner; bad input changes nothing.
import { type Directory, type DirectoryEntry, openDirectory, startDirectory } from '@homedb/replication'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EtcdCluster, startEtcd } from '../support/etcd.js'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('directory')
const ADMIN = 'directory-admin-token'
const A = 'http://127.0.0.1:7001'
const B = 'http://127.0.0.1:7002'

/** A backend under test: a client, a way to get a second independent client, and cleanup. */
interface Backend {
  readonly directory: Directory
  another(): Directory
  close(): Promise<void>
}

let etcd: EtcdCluster | undefined
afterAll(async () => {
  await etcd?.close()
})

let serial = 0
const backends: [string, () => Promise<Backend>][] = [
  [
    'embedded, in process',
    async () => {
      const server = await startDirectory({ dataDir: next(), adminToken: ADMIN })
      return { directory: server.local, another: () => server.local, close: () => server.close() }
    },
  ],
  [
    'embedded, over HTTP',
    async () => {
      const server = await startDirectory({ dataDir: next(), adminToken: ADMIN })
      const clients: Directory[] = []
      const another = () => {
        const client = openDirectory(server.url, { adminToken: ADMIN })
        clients.push(client)
        return client
      }
      const directory = another()
      return {
        directory,
        another,
        async close() {
          await Promise.all(clients.map((c) => c.close()))
          await server.close()
        },
      }
    },
  ],
  [
    'etcd',
    async () => {
      etcd ??= await startEtcd()
      const prefix = `test${serial++}/`
      const clients: Directory[] = []
      const another = () => {
        const client = openDirectory({ etcd: { hosts: etcd!.hosts, prefix } })
        clients.push(client)
        return client
      }
      const directory = another()
      return {
        directory,
        another,
        async close() {
          await Promise.all(clients.map((c) => c.close()))
        },
      }
    },
  ],
]

/** Resolves with the first entry `directory.watch` reports for which `match` is true. */
function nextChange(directory: Directory, match: (e: DirectoryEntry) => boolean): Promise<DirectoryEntry> {
  return new Promise((resolve) => {
    const stop = directory.watch((entry) => {
      if (!match(entry)) return
      stop()
      resolve(entry)
    })
  })
}

describe.each(backends)('directory backend: %s', (_name, open) => {
  let backend: Backend
  beforeAll(async () => {
    backend = await open()
    return () => backend.close()
  })

  it('registers a user once at homeEpoch 1, and a second register reports the entry that exists', async () => {
    const d = backend.directory
    expect(await d.lookup('alice')).toBeUndefined()
    const created = await d.register('alice', `${A}/`)
    expect(created).toEqual({ ok: true, entry: { user: 'alice', home: A, homeEpoch: 1, state: 'active' } })
    const again = await d.register('alice', B)
    expect(again).toEqual({ ok: false, current: { user: 'alice', home: A, homeEpoch: 1, state: 'active' } })
    expect(await backend.another().lookup('alice')).toEqual({ user: 'alice', home: A, homeEpoch: 1, state: 'active' })
  })

  it('changes an entry only at the expected epoch, and only to the same epoch or the next', async () => {
    const d = backend.directory
    await d.register('bob', A)
    const move = { id: 'm1', to: B, startedAt: 1 }
    const marked = await d.compareAndSet('bob', 1, { home: A, homeEpoch: 1, state: 'moving', move })
    expect(marked).toEqual({ ok: true, entry: { user: 'bob', home: A, homeEpoch: 1, state: 'moving', move } })
    const switched = await d.compareAndSet('bob', 1, { home: B, homeEpoch: 2, state: 'active' })
    expect(switched.ok).toBe(true)
    const stale = await d.compareAndSet('bob', 1, { home: A, homeEpoch: 2, state: 'active' })
    expect(stale).toEqual({ ok: false, current: { user: 'bob', home: B, homeEpoch: 2, state: 'active' } })
    expect(await d.compareAndSet('nobody', 1, { home: A, homeEpoch: 2, state: 'active' })).toEqual({
      ok: false,
      current: undefined,
    })
    await expect(d.compareAndSet('bob', 2, { home: A, homeEpoch: 4, state: 'active' })).rejects.toMatchObject({
      code: 'REPLICATION_CONFIG',
    })
    expect((await d.lookup('bob'))?.homeEpoch).toBe(2)
  })

  it('lets exactly one of many concurrent compare-and-sets from the same epoch win', async () => {
    const d = backend.directory
    await d.register('carol', A)
    const clients = [d, backend.another(), backend.another()]
    const homes = Array.from({ length: 9 }, (_, i) => `http://127.0.0.1:${7100 + i}`)
    const results = await Promise.all(
      homes.map((home, i) =>
        clients[i % clients.length]!.compareAndSet('carol', 1, { home, homeEpoch: 2, state: 'active' }),
      ),
    )
    const winners = results.filter((r) => r.ok)
    expect(winners).toHaveLength(1)
    const winner = (winners[0] as { entry: DirectoryEntry }).entry
    for (const r of results) if (!r.ok) expect(r.current).toEqual(winner)
    expect(await d.lookup('carol')).toEqual(winner)
  })

  it('refuses bad input with typed errors and changes nothing', async () => {
    const d = backend.directory
    await expect(d.register('Not/A/Name', A)).rejects.toMatchObject({ code: 'REPLICATION_BAD_USER' })
    await expect(d.register('dave', 'ftp://x')).rejects.toMatchObject({ code: 'REPLICATION_CONFIG' })
    await expect(d.compareAndSet('dave', 1, { home: A, homeEpoch: 1, state: 'moving' } as never)).rejects.toMatchObject(
      { code: 'REPLICATION_CONFIG' },
    )
    expect(await d.lookup('dave')).toBeUndefined()
  })

  it('lists every entry and reports changes made after a watch starts', async () => {
    const d = backend.directory
    const watcher = backend.another()
    const seen = nextChange(watcher, (e) => e.user === 'erin' && e.homeEpoch === 2)
    await d.register('erin', A)
    await d.compareAndSet('erin', 1, { home: B, homeEpoch: 2, state: 'active' })
    expect(await seen).toEqual({ user: 'erin', home: B, homeEpoch: 2, state: 'active' })
    const users = (await d.list()).map((e) => e.user).sort()
    expect(users).toEqual(expect.arrayContaining(['alice', 'bob', 'carol', 'erin']))
  })

  it('keeps one token key for the whole deployment', async () => {
    const key = await backend.directory.tokenKey()
    expect(Buffer.from(key, 'base64url')).toHaveLength(32)
    expect(await backend.another().tokenKey()).toBe(key)
  })
})

describe('embedded directory server', () => {
  it('keeps its entries and token key across a restart', async () => {
    const dataDir = next()
    const first = await startDirectory({ dataDir, adminToken: ADMIN })
    await first.local.register('alice', A)
    const key = await first.local.tokenKey()
    await first.close()
    const second = await startDirectory({ dataDir, adminToken: ADMIN })
    expect(await second.local.lookup('alice')).toEqual({ user: 'alice', home: A, homeEpoch: 1, state: 'active' })
    expect(await second.local.tokenKey()).toBe(key)
    await second.close()
  })

  it('answers lookups without the admin token (or with the lookup token if it has one), everything else only with it', async () => {
    const server = await startDirectory({ dataDir: next(), adminToken: ADMIN })
    await server.local.register('alice', A)
    const open = openDirectory(server.url)
    expect((await open.lookup('alice'))?.home).toBe(A)
    await expect(open.list()).rejects.toMatchObject({ code: 'REPLICATION_DIRECTORY', context: { status: 401 } })
    await expect(open.register('bob', A)).rejects.toMatchObject({ code: 'REPLICATION_DIRECTORY' })
    const answer = await fetch(`${server.url}/v1/directory/users/alice`)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    await open.close()
    await server.close()

    const gated = await startDirectory({ dataDir: next(), adminToken: ADMIN, lookupToken: 'lookup-secret' })
    await gated.local.register('alice', A)
    const anonymous = openDirectory(gated.url)
    await expect(anonymous.lookup('alice')).rejects.toMatchObject({ context: { status: 401 } })
    const withToken = openDirectory({ url: gated.url, lookupToken: 'lookup-secret' })
    expect((await withToken.lookup('alice'))?.home).toBe(A)
    await Promise.all([anonymous.close(), withToken.close()])
    await gated.close()
  })
})
