// What a user's first replication script does with the published packages, under plain `node` in a fresh npm
// project that installed the packed tarballs: `homedb --help` through the installed bin, then a home server, a
// shipper and a replica round trip on loopback, then the operator page served from the installed ui/ folder. Prints
// one line per check; exits non-zero on the first failure.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openReplica, ship, startHomeServer } from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'

const root = mkdtempSync(path.join(os.tmpdir(), 'homedb-replication-check-'))
try {
  const bin = path.join(process.cwd(), 'node_modules', '.bin', 'homedb')
  const help = execFileSync(bin, ['--help'], { encoding: 'utf8' })
  assert.match(help, /serve/)
  assert.match(help, /restore/)
  console.log('homedb --help ok')

  const server = await startHomeServer({
    dataDir: path.join(root, 'home'),
    port: 0,
    host: '127.0.0.1',
    adminToken: 'admin-token-for-the-pack-check',
  })
  const token = await server.addUser('alice')
  const Core = schema({ files: lookupTable() })
  const db = await openDb(Core, { dir: path.join(root, 'writer') })
  const shipper = ship(db, { home: server.url, user: 'alice', token })
  db.files.insert('a', { size: 1 })
  await shipper.flushed()
  const replica = await openReplica(Core, { home: server.url, user: 'alice', token })
  db.files.insert('b', { size: 2 })
  await shipper.flushed()
  await replica.waitFor(db.seq, { timeoutMs: 10_000 })
  assert.deepEqual(replica.files.get('b'), { size: 2 })
  assert.equal(replica.stateHash(), db.stateHash())
  await replica.close()
  await shipper.close()
  await db.close()
  console.log('@homedb/replication round trip ok')

  // The operator page is served from the installed package's ui/ folder (no build step): the login form, a
  // login with the admin token, the page and its scripts.
  const form = await fetch(`${server.url}/ui`)
  assert.equal(form.status, 200)
  assert.match(await form.text(), /action="\/ui\/login"/)
  const login = await fetch(`${server.url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: 'admin-token-for-the-pack-check' }).toString(),
  })
  assert.equal(login.status, 303)
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
  const page = await (await fetch(`${server.url}/ui`, { headers: { cookie } })).text()
  assert.match(page, /name="homedb-csrf"/)
  for (const asset of ['app.js', 'style.css', 'user-view.js']) {
    const answer = await fetch(`${server.url}/ui/assets/${asset}`)
    assert.equal(answer.status, 200, asset)
    assert.ok((await answer.text()).length > 100, asset)
  }
  await server.close()
  console.log('@homedb/replication ui ok')
} finally {
  rmSync(root, { recursive: true, force: true })
}
