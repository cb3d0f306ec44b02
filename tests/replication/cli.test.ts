// The `homedb` command as users run it (a child process): --help, serve with its startup output and a graceful
// SIGTERM that loses no acknowledged append, users add/list, status, inspect and verify (exit code 1 on damage).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ship } from '@homedb/replication'
import { openDb } from '@homedb/tables'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { type HomeProcess, runCli, startHomeProcess } from './support/home-process.js'
import { Every } from './support/workload.js'

const next = tempDirs('cli')
let home: HomeProcess | undefined
afterAll(async () => {
  await home?.kill9()
})

describe('homedb', () => {
  it('prints help for the command and each subcommand', async () => {
    const top = await runCli(['--help'])
    expect(top.code).toBe(0)
    for (const command of ['serve', 'users', 'inspect', 'verify', 'status', 'restore'])
      expect(top.stdout).toContain(command)
    const serve = await runCli(['serve', '--help'])
    expect(serve.stdout).toContain('--data <dir>')
  })

  it('serves, adds and lists users, reports status, and stops on SIGTERM without losing an acknowledged append', async () => {
    const dataDir = next()
    home = await startHomeProcess(dataDir, 'admin-token-for-tests')
    expect(home.output()).toContain(`data dir: ${dataDir}`)
    expect(home.output()).toContain('users:    0')
    const added = await runCli(['users', 'add', 'alice', '--home', home.url, '--admin-token', 'admin-token-for-tests'])
    expect(added.code).toBe(0)
    const token = /token: (\S+)/.exec(added.stdout)![1]!
    expect(token.length).toBeGreaterThanOrEqual(40)

    const db = await openDb(Every, { dir: next() })
    const shipper = ship(db, { home: home.url, user: 'alice', token, retry: { baseMs: 10, maxMs: 100 } })
    let acked = 0
    shipper.onNotice((n) => {
      if (n.type === 'acked') acked = n.seq
    })
    for (let i = 0; i < 50; i++) db.events.push({ at: i, what: 'before' })
    await shipper.flushed()
    const status = await runCli(['status', home.url, '--admin-token', 'admin-token-for-tests', '--json'])
    expect(JSON.parse(status.stdout).users[0]).toMatchObject({ name: 'alice', head: { seq: 50 } })

    // Appends keep coming while the server is told to stop.
    const writing = (async () => {
      for (let i = 0; i < 300; i++) {
        db.events.push({ at: i, what: 'during' })
        await new Promise((r) => setTimeout(r, 1))
      }
    })()
    await new Promise((r) => setTimeout(r, 30))
    const code = await home.stop()
    const ackedAtStop = acked
    expect(code).toBe(0)
    expect(home.output()).toContain('SIGTERM: finishing in-flight requests')
    expect(home.output()).toContain('stopped')
    await writing
    const list = await runCli(['users', 'list', '--data', dataDir])
    expect(list.stdout).toMatch(/alice {2}epoch 1 {2}log-1/)
    home = await startHomeProcess(dataDir, 'admin-token-for-tests', home.port)
    const info = await fetch(`${home.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${token}` } })
    const head = ((await info.json()) as { log: { head: { seq: number } } }).log.head.seq
    expect(head).toBeGreaterThanOrEqual(ackedAtStop)
    await shipper.flushed()
    await shipper.close()
    await db.close()
  })

  it('inspects a log and verifies it, with exit code 1 once a durable byte is damaged', async () => {
    const dir = next()
    const db = await openDb(Every, { dir })
    for (let i = 0; i < 20; i++) {
      db.events.push({ at: i, what: 'x' })
      await db.sync()
    }
    await db.close()
    const inspect = await runCli(['inspect', dir])
    expect(inspect.stdout).toContain('head  seq 20')
    expect((await runCli(['verify', dir])).code).toBe(0)
    const segment = join(dir, 'segment-00000001.log')
    const bytes = readFileSync(segment)
    bytes[200]! ^= 0x10
    writeFileSync(segment, bytes)
    const damaged = await runCli(['verify', dir])
    expect(damaged.code).toBe(1)
    expect(damaged.stdout).toContain('DAMAGE')
  })
})
