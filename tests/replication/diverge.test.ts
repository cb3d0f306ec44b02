// The writer's identity is its history: a second writer whose history forks from the home's is refused (and keeps
// its frames), a writer bootstrapped from the home continues the same history, and the old writer then gets
// `diverged` with its local log left exactly as it was.
import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type HomeServer, homeSource, type Shipper, ship, startHomeServer } from '@homedb/replication'
import { logOf, openDb } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { Every } from './support/workload.js'

const next = tempDirs('diverge')
const token = 'alice-token-for-tests'
let server: HomeServer

beforeAll(async () => {
  server = await startHomeServer({ dataDir: next(), adminToken: 'admin-token-for-tests' })
  await server.addUser('alice', { token })
})
afterAll(() => server.close())

async function stopped(shipper: Shipper): Promise<string> {
  for (;;) {
    const { state } = shipper.status
    if (state === 'diverged' || state === 'incompatible' || state === 'failed') return state
    await new Promise<void>((resolve) => {
      const off = shipper.onNotice((n) => {
        if (n.type === 'state') {
          off()
          resolve()
        }
      })
    })
  }
}

async function frames(db: object): Promise<string[]> {
  const out: string[] = []
  for await (const c of logOf(db).readEncoded({ from: 0 })) out.push(`${c.seq}:${c.chain}`)
  return out
}

describe('divergence', () => {
  it('refuses a forked writer, lets a bootstrapped one continue, then stops the stale one, keeping its frames', async () => {
    const dirA = next()
    const a = await openDb(Every, { dir: dirA, autoCompact: false })
    const shipA = ship(a, { home: server.url, user: 'alice', token })
    for (let i = 0; i < 10; i++) a.files.insert(`a${i}`, { size: i, tags: [] })
    await shipA.flushed()

    const dirFork = next()
    await a.sync()
    cpSync(dirA, dirFork, { recursive: true })
    rmSync(join(dirFork, 'LOCK'))
    for (let i = 10; i < 15; i++) a.files.insert(`a${i}`, { size: i, tags: [] })
    await shipA.flushed()

    // A copy of A's log that went its own way.
    const fork = await openDb(Every, { dir: dirFork, autoCompact: false })
    for (let i = 0; i < 3; i++) fork.events.push({ at: i, what: 'fork' })
    const forkFrames = await frames(fork)
    const shipFork = ship(fork, { home: server.url, user: 'alice', token })
    expect(await stopped(shipFork)).toBe('diverged')
    await expect(shipFork.flushed()).rejects.toMatchObject({ code: 'REPLICATION_DIVERGED' })
    expect(await frames(fork)).toEqual(forkFrames)

    // A brand-new log for the same user is another history altogether.
    const stranger = await openDb(Every, { dir: next() })
    stranger.events.push({ at: 0, what: 'stranger' })
    const shipStranger = ship(stranger, { home: server.url, user: 'alice', token })
    expect(await stopped(shipStranger)).toBe('incompatible')

    // A new machine bootstraps from the home and continues the same history.
    const c = await openDb(Every, { dir: next(), bootstrap: homeSource({ home: server.url, user: 'alice', token }) })
    expect(c.stateHash()).toBe(a.stateHash())
    const shipC = ship(c, { home: server.url, user: 'alice', token })
    c.profile.insert({ name: 'machine C', n: 1 })
    c.profile.insert({ name: 'machine C', n: 2 })
    await shipC.flushed()

    // The old writer commits on its own: its history no longer extends the home's.
    a.profile.insert({ name: 'stale machine A', n: 1 })
    const aFrames = await frames(a)
    const aHash = a.stateHash()
    expect(await stopped(shipA)).toBe('diverged')
    expect(shipA.status.ackedSeq).toBe(15)
    expect(shipA.status.homeHead).toMatchObject({ seq: 17 })
    expect(await frames(a)).toEqual(aFrames)
    expect(a.stateHash()).toBe(aHash)

    for (const s of [shipA, shipFork, shipStranger, shipC]) await s.close()
    for (const d of [a, fork, stranger, c]) await d.close()
  })
})
