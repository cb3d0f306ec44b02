// The home is the user's backup: a writer whose local log is refused as damaged (durable bits flipped, on the
// simulated file system) or lost with its disk restores from the home, with `openDb(…, { bootstrap })` and with
// `homedb restore`; the damaged files are moved aside, never deleted.
import { rmSync } from 'node:fs'
import { type HomeServer, homeSource, ship, startHomeServer } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { SimFs, seededRng } from '@homedb/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { runCli } from './support/home-process.js'
import { Every, randomTransaction } from './support/workload.js'

const next = tempDirs('restore')
let server: HomeServer

beforeAll(async () => {
  server = await startHomeServer({ dataDir: next(), adminToken: 'admin-token-for-tests' })
})
afterAll(() => server.close())

/** Seeds tried for bit flips; only those whose flip makes the log refuse to open count. */
const SEEDS = Array.from({ length: 24 }, (_, i) => 8_100 + i)

describe('restore from the home', () => {
  it('restores logs refused as damaged after bit flips of durable data, moving the damaged files aside', async () => {
    let damaged = 0
    for (const seed of SEEDS) {
      const rng = seededRng(seed)
      const user = `flip-${seed}`
      const token = `${user}-token-for-tests`
      await server.addUser(user, { token })
      const fs = new SimFs(rng.fork(), { maxPause: 0 })
      const db = await openDb(Every, { dir: '/w', fileLayer: fs, autoCompact: false, segmentBytes: 4096 })
      const shipper = ship(db, { home: server.url, user, token })
      for (let batch = 0; batch < 8; batch++) {
        for (let i = 0; i < 10; i++) randomTransaction(db, rng)
        await db.sync()
      }
      await shipper.flushed()
      const hash = db.stateHash()
      await shipper.close()
      const { fs: after, report } = fs.crash('keep-all', rng.fork(), { flipProbability: 1 })
      await db.close().catch(() => undefined) // the old process's handles die with its power
      expect(report.flips.length).toBeGreaterThan(0)
      const plain = await openDb(Every, { dir: '/w', fileLayer: after }).then(
        async (opened) => {
          await opened.close()
          return undefined
        },
        (error: { code?: string; context?: { logCode?: string } }) => error,
      )
      if (plain === undefined) continue // the flip landed where recovery cuts it as a torn tail
      damaged++
      const before = after.list('/w')
      const restored = await openDb(Every, {
        dir: '/w',
        fileLayer: after,
        bootstrap: homeSource({ home: server.url, user, token }),
      })
      expect(restored.stateHash(), `seed ${seed}`).toBe(hash)
      await restored.close()
      const names = after.list('/w')
      // Every file the damaged log had is still there, renamed: nothing was deleted.
      for (const name of before.filter((n) => n !== 'LOCK')) {
        expect(
          names.some((n) => n.startsWith('damaged-') && n.endsWith(`-${name}`)),
          `${name} moved aside`,
        ).toBe(true)
      }
    }
    console.log(`bit flips: ${damaged} of ${SEEDS.length} seeds gave a log refused as damaged, all restored`)
    expect(damaged).toBeGreaterThanOrEqual(3)
  })

  it('restores a deleted directory with `homedb restore`', async () => {
    await server.addUser('lost', { token: 'lost-token-for-tests' })
    const dir = next()
    const db = await openDb(Every, { dir })
    const shipper = ship(db, { home: server.url, user: 'lost', token: 'lost-token-for-tests' })
    const rng = seededRng(77)
    for (let i = 0; i < 500; i++) randomTransaction(db, rng)
    await db.compact()
    for (let i = 0; i < 50; i++) randomTransaction(db, rng)
    await shipper.flushed()
    const hash = db.stateHash()
    const seq = db.seq
    await shipper.close()
    await db.close()
    rmSync(dir, { recursive: true, force: true })
    const run = await runCli([
      'restore',
      dir,
      '--home',
      server.url,
      '--user',
      'lost',
      '--token',
      'lost-token-for-tests',
    ])
    expect(run.stderr).not.toMatch(/homedb:/)
    expect(run.stderr).toContain(`restore: ${seq}/${seq}`)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`at seq ${seq}`)
    const again = await openDb(Every, { dir })
    expect(again.stateHash()).toBe(hash)
    expect(again.seq).toBe(seq)
    await again.close()
    const refused = await runCli([
      'restore',
      dir,
      '--home',
      server.url,
      '--user',
      'lost',
      '--token',
      'lost-token-for-tests',
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/healthy log/)
  })
})
