// The homing commands as users run them (child processes): `homedb directory`, `homedb serve --directory`,
// `homedb move` with its progress and result, and `homedb status` of a directory (users, homes, epochs, positions)
// and of a home (states).
import { ship } from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, runCli, startServerProcess } from './support/home-process.js'

const next = tempDirs('homing-cli')
const ADMIN = 'homing-cli-admin-token'
const Core = schema({ files: lookupTable<string, { n: number }>() })
const running: HomeProcess[] = []
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill9()))
})

async function start(args: string[]): Promise<HomeProcess> {
  const p = await startServerProcess([...args, '--port', '0', '--admin-token', ADMIN])
  running.push(p)
  return p
}

describe('homedb homing commands', () => {
  it('lists directory and move in help', async () => {
    const top = await runCli(['--help'])
    expect(top.stdout).toContain('directory')
    expect(top.stdout).toContain('move')
    const move = await runCli(['move', '--help'])
    expect(move.stdout).toContain('--to <url>')
    expect(move.stdout).toContain('--directory <url>')
  })

  it('runs a directory and two homes, moves a user with progress, and reports the deployment', async () => {
    const directory = await start(['directory', '--data', next()])
    expect(directory.output()).toContain('homedb directory listening on')
    const a = await start(['serve', '--data', next(), '--directory', directory.url])
    const b = await start(['serve', '--data', next(), '--directory', directory.url])
    expect(a.output()).toContain(`directory: ${directory.url}`)
    // Both print where their operator page is.
    expect(a.output()).toContain(`operator page: ${a.url}/ui`)
    expect(directory.output()).toContain(`operator page: ${directory.url}/ui`)
    const added = await runCli(['users', 'add', 'alice', '--home', a.url, '--admin-token', ADMIN])
    expect(added.code).toBe(0)
    const token = /token: (\S+)/.exec(added.stdout)![1]!

    const db = await openDb(Core, { dir: next() })
    const shipper = ship(db, { directory: directory.url, user: 'alice', token, retry: { baseMs: 10, maxMs: 100 } })
    for (let i = 0; i < 100; i++) db.files.insert(`f${i}`, { n: i })
    await shipper.flushed()

    const moved = await runCli(['move', 'alice', '--to', b.url, '--directory', directory.url, '--admin-token', ADMIN])
    expect(moved.code).toBe(0)
    expect(moved.stdout).toContain(`moved alice from ${a.url} to ${b.url}`)
    expect(moved.stdout).toMatch(/homeEpoch 2, writes paused \d+ ms, \d+ bytes copied/)
    expect(moved.stderr).toContain('freezing…')

    db.files.insert('after', { n: 1 })
    await shipper.flushed()
    const status = await runCli(['status', directory.url, '--admin-token', ADMIN, '--json'])
    expect(status.code).toBe(0)
    const view = JSON.parse(status.stdout) as {
      users: { user: string; home: string; homeEpoch: number; atHome: { head: { seq: number } } }[]
    }
    expect(view.users).toEqual([
      expect.objectContaining({
        user: 'alice',
        home: b.url,
        homeEpoch: 2,
        atHome: expect.objectContaining({ state: 'active', head: expect.objectContaining({ seq: 101 }) }),
      }),
    ])
    const atOld = await runCli(['status', a.url, '--admin-token', ADMIN])
    expect(atOld.stdout).toContain(`alice  moved  epoch 1`)
    const text = await runCli(['status', directory.url, '--admin-token', ADMIN])
    expect(text.stdout).toContain(`alice  ${b.url}  epoch 2  active  head 101`)

    const again = await runCli(['move', 'alice', '--to', b.url, '--directory', directory.url, '--admin-token', ADMIN])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already lives at')
    await shipper.close()
    await db.close()
  })
})
