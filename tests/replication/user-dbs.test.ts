// openUserDbs: many users' dbs in one app. A user opens on first use (restored from its home when this machine has
// no copy, fresh when the home has nothing yet), stays within the open bound, closes when idle only once shipped,
// and close() delivers what is left; with the home down, unshipped commits stay on disk and the next pool on the same
// dir ships them.
import {
  type DirectoryServer,
  type HomeServer,
  openUserDbs,
  startDirectory,
  startHomeServer,
} from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('user-dbs')
const ADMIN = 'user-dbs-admin-token'
const Core = schema({ notes: lookupTable<string, { text: string }>() })
const tokenOf = (user: string) => `${user}-token-for-tests`
const retry = { baseMs: 10, maxMs: 100 }

let directory: DirectoryServer | undefined
let home: HomeServer | undefined
afterEach(async () => {
  await home?.close()
  await directory?.close()
  home = undefined
  directory = undefined
})

async function headOf(url: string, user: string): Promise<number | null> {
  const answer = await fetch(`${url}/v1/users/${user}/log`, { headers: { authorization: `Bearer ${tokenOf(user)}` } })
  const body = (await answer.json()) as { log: { head: { seq: number } } | null }
  return body.log?.head.seq ?? null
}

describe('openUserDbs', () => {
  it('opens users on first use (fresh, or restored from the home) and ships each to its home', async () => {
    directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
    home = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
    for (const user of ['ann', 'ben']) await home.addUser(user, { token: tokenOf(user) })
    const users = openUserDbs(Core, { dir: next(), directory: directory.url, credentials: tokenOf, retry })
    await users.use('ann', (db) => db.notes.insert('a', { text: 'hello' }))
    await users.use('ben', (db) => db.notes.insert('b', { text: 'hi' }))
    expect(await users.close()).toEqual({ delivered: expect.arrayContaining(['ann', 'ben']), undelivered: [] })
    expect(await headOf(home.url, 'ann')).toBe(1)

    // Another machine (an empty dir) restores ann from her home and continues her history.
    const elsewhere = openUserDbs(Core, { dir: next(), directory: directory.url, credentials: tokenOf, retry })
    const ann = await elsewhere.get('ann')
    expect(ann.notes.get('a')).toEqual({ text: 'hello' })
    ann.notes.insert('a2', { text: 'again' })
    expect((await elsewhere.close()).undelivered).toEqual([])
    expect(await headOf(home.url, 'ann')).toBe(2)
  })

  it('keeps at most maxOpen dbs open, closes idle ones once shipped, and delivers everything', async () => {
    directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
    home = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
    const names = Array.from({ length: 20 }, (_, i) => `u${i}`)
    for (const user of names) await home.addUser(user, { token: tokenOf(user) })
    const users = openUserDbs(Core, {
      dir: next(),
      directory: directory.url,
      credentials: tokenOf,
      retry,
      maxOpen: 5,
      idleMs: 200,
    })
    let most = 0
    for (const [i, user] of names.entries()) {
      await users.use(user, (db) => db.notes.insert(`n${i}`, { text: user }))
      most = Math.max(most, users.status().open)
    }
    expect(most).toBeLessThanOrEqual(6)
    // Idle dbs close once their commits reached the home.
    await expect.poll(() => users.status().open, { timeout: 10_000 }).toBe(0)
    expect(await users.close()).toMatchObject({ undelivered: [] })
    for (const user of names) expect(await headOf(home.url, user)).toBe(1)
  })

  it('keeps unshipped commits on disk when the home is down, and the next pool on that dir ships them', async () => {
    directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
    const homeDir = next()
    home = await startHomeServer({ dataDir: homeDir, adminToken: ADMIN, directory: directory.url })
    const { port } = home
    await home.addUser('cat', { token: tokenOf('cat') })
    await home.close()
    const dir = next()
    const users = openUserDbs(Core, { dir, directory: directory.url, credentials: tokenOf, retry, closeTimeoutMs: 300 })
    // cat has no local copy and her home is down: opening needs the home (it may hold her data).
    await expect(users.get('cat')).rejects.toBeDefined()
    // With a local copy, writes go on while the home is down.
    const local = await openDb(Core, { dir: `${dir}/cat` })
    await local.close()
    await users.use('cat', (db) => db.notes.insert('offline', { text: 'queued' }))
    expect(await users.close()).toEqual({ delivered: [], undelivered: ['cat'] })

    home = await startHomeServer({ dataDir: homeDir, adminToken: ADMIN, directory: directory.url, port })
    const again = openUserDbs(Core, { dir, directory: directory.url, credentials: tokenOf, retry })
    await expect.poll(() => headOf(home!.url, 'cat'), { timeout: 20_000 }).toBe(1)
    expect((await again.close()).undelivered).toEqual([])
  })
})
