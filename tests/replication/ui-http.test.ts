// The operator page's endpoints over plain HTTP (no browser): nothing without the session cookie, nothing with a
// user's token or any bearer token, no action from another origin or without the session's CSRF token (and a
// refused action changes nothing), wrong admin tokens refused and rate-limited, the cookie's flags (Secure under
// TLS), a strict Content-Security-Policy, logout, the live feed's place among the server's tails, and one user's
// data read without the schema, a page at a time.
import { mkdirSync, readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { type DirectoryServer, type HomeServer, ship, startDirectory, startHomeServer } from '@homedb/replication'
import { list, lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDirs } from './support/dirs.js'
import { makeTestCa } from './support/test-ca.js'
import { action, login, openFeed, postLogin, type UiLogin } from './support/ui-client.js'

const next = tempDirs('ui-http')
const ADMIN = 'ui-http-admin-token'
const TOKEN = 'alice-token-for-the-ui'
const Core = schema({ files: lookupTable<string, { n: number }>(), notes: list<string>() })

let directory: DirectoryServer
let home: HomeServer
let other: HomeServer
let session: UiLogin

beforeAll(async () => {
  directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
  home = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
  other = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
  await home.addUser('alice', { token: TOKEN })
  await home.addUser('bob')
  const db = await openDb(Core, { dir: next() })
  const shipper = ship(db, { home: home.url, user: 'alice', token: TOKEN })
  db.transactionSync(() => {
    for (let i = 0; i < 450; i++) db.files.insert(`f${String(i).padStart(3, '0')}`, { n: i })
  })
  for (let i = 0; i < 30; i++) db.notes.push(`note ${i}`)
  await shipper.flushed()
  await shipper.close()
  await db.close()
  session = await login(home.url, ADMIN)
})

afterAll(async () => {
  await Promise.all([home?.close(), other?.close()])
  await directory?.close()
})

const API_GETS = ['users/alice', 'users/alice/tables', 'users/alice/table?name=files', 'users/alice/commits', 'homes']
const API_POSTS = ['users/alice/move', 'users/alice/token']

async function errorCode(answer: Response): Promise<string> {
  return ((await answer.json()) as { error: { code: string } }).error.code
}

/** `secret` with its first character changed (always to a different one: a token may itself start with 'x'). */
function otherFirstChar(secret: string): string {
  return (secret.startsWith('x') ? 'y' : 'x') + secret.slice(1)
}

/** The user's own protocol still accepts `token` (a refused action changed nothing). */
async function tokenWorks(token: string): Promise<number> {
  return (await fetch(`${home.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${token}` } })).status
}

describe('the operator page refuses what is not a logged-in page of this server', () => {
  it('answers nothing but the login form without the session cookie', async () => {
    const page = await fetch(`${home.url}/ui`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('action="/ui/login"')
    expect(html).not.toContain('homedb-csrf')
    expect(html).not.toContain('alice')
    for (const path of API_GETS) {
      const answer = await fetch(`${home.url}/ui/api/${path}`)
      expect([path, answer.status, await errorCode(answer)]).toEqual([path, 401, 'unauthorized'])
    }
    for (const path of API_POSTS) {
      const answer = await action(home.url, path, undefined, { to: other.url })
      expect([path, answer.status]).toEqual([path, 401])
    }
    const feed = await fetch(`${home.url}/ui/events`)
    expect([feed.status, await errorCode(feed)]).toEqual([401, 'unauthorized'])
    expect(await tokenWorks(TOKEN)).toBe(200)
  })

  it('opens nothing with a user’s token or the admin token as a bearer, or a made-up cookie', async () => {
    for (const bearer of [TOKEN, ADMIN]) {
      const headers = { authorization: `Bearer ${bearer}` }
      for (const path of API_GETS) expect((await fetch(`${home.url}/ui/api/${path}`, { headers })).status).toBe(401)
      expect((await fetch(`${home.url}/ui/events`, { headers })).status).toBe(401)
      expect((await action(home.url, 'users/alice/token', undefined, {}, headers)).status).toBe(401)
    }
    const forged = { cookie: `${session.cookie.split('=')[0]}=${'A'.repeat(43)}` }
    expect((await fetch(`${home.url}/ui/api/users/alice`, { headers: forged })).status).toBe(401)
    expect(await tokenWorks(TOKEN)).toBe(200)
  })

  it('refuses actions from another origin, without an Origin, or without the session’s CSRF token, changing nothing', async () => {
    const refused = [
      await action(home.url, 'users/alice/token', session, {}, { origin: 'http://evil.example' }),
      await action(home.url, 'users/alice/token', session, {}, { origin: home.url.replace('127.0.0.1', 'localhost') }),
      await action(home.url, 'users/alice/token', session, {}, { origin: '' }),
      await action(home.url, 'users/alice/token', session, {}, { 'homedb-csrf': '' }),
      await action(home.url, 'users/alice/token', session, {}, { 'homedb-csrf': otherFirstChar(session.csrf) }),
      await action(home.url, 'users/alice/move', session, { to: other.url }, { origin: 'http://evil.example' }),
    ]
    for (const answer of refused) expect([answer.status, await errorCode(answer)]).toEqual([403, 'forbidden'])
    expect(await tokenWorks(TOKEN)).toBe(200)
    expect((await directory.local.lookup('alice'))?.home).toBe(home.url)
    // A login form posted from another site makes no session.
    const crossLogin = await postLogin(home.url, ADMIN, 'http://evil.example')
    expect([crossLogin.status, crossLogin.headers.get('set-cookie')]).toEqual([403, null])
    // Nor does a logout from another site end one.
    const crossLogout = await fetch(`${home.url}/ui/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: 'http://evil.example',
        cookie: session.cookie,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `csrf=${session.csrf}`,
    })
    expect(crossLogout.status).toBe(403)
    expect((await fetch(`${home.url}/ui/api/users/alice`, { headers: { cookie: session.cookie } })).status).toBe(200)
  })

  it('refuses a wrong admin token without a cookie, and makes an address that keeps trying wait', async () => {
    // A server of its own: the waiting address (127.0.0.1) would wait on the others too.
    const lone = await startHomeServer({ dataDir: next(), adminToken: ADMIN })
    try {
      const wrong = await postLogin(lone.url, 'not-the-admin-token')
      expect(wrong.status).toBe(401)
      expect(wrong.headers.get('set-cookie')).toBeNull()
      expect(await wrong.text()).toContain('Wrong token')
      const statuses: number[] = []
      for (let i = 0; i < 12; i++) statuses.push((await postLogin(lone.url, `wrong-${i}-admin-token`)).status)
      expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401))
      expect(statuses).toContain(429)
      const waiting = await postLogin(lone.url, ADMIN)
      expect(waiting.status).toBe(429)
      expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(waiting.headers.get('set-cookie')).toBeNull()
      // Once the wait is over, the admin token logs in again.
      await expect.poll(async () => (await postLogin(lone.url, ADMIN)).status, { timeout: 5_000 }).toBe(303)
    } finally {
      await lone.close()
    }
  })
})

describe('a session of the operator page', () => {
  it('is an HttpOnly, SameSite=Strict cookie on /ui (not Secure over plain HTTP), and every answer carries a strict CSP', async () => {
    const fresh = await postLogin(other.url, ADMIN)
    expect(fresh.status).toBe(303)
    expect(fresh.headers.get('location')).toBe('/ui')
    const attributes = (fresh.headers.get('set-cookie') ?? '').split(';').map((a) => a.trim())
    expect(attributes).toEqual(expect.arrayContaining(['Path=/ui', 'HttpOnly', 'SameSite=Strict']))
    expect(attributes).not.toContain('Secure')
    for (const path of ['/ui', '/ui/assets/app.js', '/ui/api/users/alice']) {
      const answer = await fetch(`${home.url}${path}`, { headers: { cookie: session.cookie } })
      const csp = answer.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe')
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })

  it('is Secure under TLS', async () => {
    const dir = next()
    mkdirSync(dir, { recursive: true })
    const ca = makeTestCa(dir)
    const tls = await startHomeServer({ dataDir: next(), adminToken: ADMIN, tls: { cert: ca.cert, key: ca.key } })
    try {
      const url = new URL(`${tls.url}/ui/login`)
      const setCookie = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          url,
          {
            method: 'POST',
            ca: readFileSync(ca.caPath),
            headers: { origin: tls.url, 'content-type': 'application/x-www-form-urlencoded' },
          },
          (res) => {
            res.resume()
            resolve(String(res.headers['set-cookie'] ?? ''))
          },
        )
        req.on('error', reject)
        req.end(new URLSearchParams({ token: ADMIN }).toString())
      })
      expect(setCookie.split(';').map((a) => a.trim())).toEqual(
        expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/ui']),
      )
    } finally {
      await tls.close()
    }
  })

  it('ends at logout: its cookie opens nothing afterwards and its live feed ends', async () => {
    const mine = await login(home.url, ADMIN)
    const feed = await openFeed(home.url, mine.cookie)
    expect((await feed.next()).event).toBe('state')
    const out = await fetch(`${home.url}/ui/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: home.url, cookie: mine.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: mine.csrf }).toString(),
    })
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
    let event = await feed.next()
    while (event.event === 'state') event = await feed.next()
    expect(event.event).toBe('end')
    await feed.ended()
    expect((await fetch(`${home.url}/ui/api/users/alice`, { headers: { cookie: mine.cookie } })).status).toBe(401)
    expect((await openFeed(home.url, mine.cookie)).status).toBe(401)
  })

  it('rotates a user’s token: the new one works, the old one is refused from then on', async () => {
    const answer = await action(home.url, 'users/alice/token', session)
    expect(answer.status).toBe(200)
    const { name, token } = (await answer.json()) as { name: string; token: string }
    expect(name).toBe('alice')
    expect(await tokenWorks(TOKEN)).toBe(401)
    expect(await tokenWorks(token)).toBe(200)
    await home.rotateToken('alice', { token: TOKEN })
  })

  it('refuses a move with a bad target or of a user it does not hold, and starts nothing', async () => {
    const bad = [
      await action(home.url, 'users/alice/move', session, { to: 'ftp://nowhere' }),
      await action(home.url, 'users/alice/move', session, { to: home.url }),
      await action(home.url, 'users/alice/move', session, {}),
      await action(home.url, 'users/nobody/move', session, { to: other.url }),
      await action(home.url, 'users/BAD..name/move', session, { to: other.url }),
    ]
    expect(bad.map((a) => a.status)).toEqual([400, 400, 400, 404, 400])
    expect((await directory.local.lookup('alice'))?.homeEpoch).toBe(1)
  })
})

describe('the live feed', () => {
  it('sends the users, their heads and the server’s figures, then only what changed', async () => {
    const feed = await openFeed(home.url, session.cookie)
    try {
      const first = (await feed.next()).data as {
        kind: string
        server: { users: number }
        users: { full: boolean; rows: { name: string; head: { seq: number } | null }[]; total: number }
      }
      expect(first.kind).toBe('home')
      expect(first.server.users).toBe(2)
      expect(first.users.full).toBe(true)
      expect(first.users.rows.map((r) => r.name)).toEqual(['alice', 'bob'])
      expect(first.users.rows[0]?.head?.seq).toBe(31)
      const second = (await feed.next()).data as { users: { full: boolean } }
      expect(second.users.full).toBe(false)
    } finally {
      feed.close()
    }
  })

  it('takes a place among the server’s waiting tails: a full server refuses another, a closed one gives it back', async () => {
    const small = await startHomeServer({ dataDir: next(), adminToken: ADMIN, maxTailsPerUser: 2 })
    try {
      const mine = await login(small.url, ADMIN)
      const a = await openFeed(small.url, mine.cookie)
      const b = await openFeed(small.url, mine.cookie)
      await Promise.all([a.next(), b.next()])
      const c = await openFeed(small.url, mine.cookie)
      expect(c.status).toBe(429)
      a.close()
      await expect.poll(async () => (await openFeed(small.url, mine.cookie)).status, { timeout: 5000 }).toBe(200)
      const d = await openFeed(small.url, mine.cookie)
      expect(d.status).toBe(429)
      // Closing the server ends the feeds it serves.
      await small.close()
      await b.ended()
    } finally {
      await small.close()
    }
  })
})

describe('one user’s data', () => {
  it('lists the tables at the head and reads a table a page at a time, never more than 200 entries', async () => {
    const get = (path: string) =>
      fetch(`${home.url}/ui/api/users/alice/${path}`, { headers: { cookie: session.cookie } })
    const tables = (await (await get('tables')).json()) as { seq: number; tables: unknown[] }
    expect(tables.seq).toBe(31)
    expect(tables.tables).toEqual([
      { name: 'files', kind: 'lookupTable', size: 450 },
      { name: 'notes', kind: 'list', size: 30 },
    ])
    const page = (await (await get('table?name=files&offset=440&limit=20')).json()) as {
      size: number
      entries: { key: string; value: string }[]
    }
    expect(page.size).toBe(450)
    expect(page.entries).toHaveLength(10)
    expect(page.entries[0]).toEqual({ key: '"f440"', value: '{"n": 440}' })
    expect((await get('table?name=files&limit=201')).status).toBe(400)
    expect((await get('table?name=files&offset=-1')).status).toBe(400)
    expect((await get('table?name=nothing')).status).toBe(404)
    const commits = (await (await get('commits?limit=3')).json()) as {
      commits: { seq: number; ops: { table: string; op: string; value: string }[] }[]
    }
    expect(commits.commits.map((c) => c.seq)).toEqual([31, 30, 29])
    expect(commits.commits[0]?.ops).toEqual([{ table: 'notes', kind: 'list', op: 'push', value: '"note 29"' }])
    expect((await get('commits?limit=1000')).status).toBe(400)
  })

  it('says so for a user without a log, and for a user that is not here', async () => {
    const get = (path: string) => fetch(`${home.url}/ui/api/${path}`, { headers: { cookie: session.cookie } })
    const bob = await get('users/bob/tables')
    expect([bob.status, await errorCode(bob)]).toEqual([409, 'no-log'])
    const nobody = await get('users/nobody/tables')
    expect([nobody.status, await errorCode(nobody)]).toEqual([404, 'no-user'])
  })
})

describe('the directory’s operator page', () => {
  it('refuses what is not a logged-in page of it, and its feed lists users, homes and moves', async () => {
    expect((await fetch(`${directory.url}/ui/events`)).status).toBe(401)
    expect((await fetch(`${directory.url}/ui/events`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(
      401,
    )
    expect((await postLogin(directory.url, ADMIN, 'http://evil.example')).status).toBe(403)
    expect((await postLogin(directory.url, 'wrong-directory-token')).status).toBe(401)
    // A home's session is not the directory's (each server has its own cookie and sessions).
    expect((await openFeed(directory.url, session.cookie)).status).toBe(401)
    const mine = await login(directory.url, ADMIN)
    const feed = await openFeed(directory.url, mine.cookie)
    try {
      const state = (await feed.next()).data as {
        kind: string
        homes: { url: string; users: number }[]
        users: { rows: { name: string; home: string; epoch: number }[] }
      }
      expect(state.kind).toBe('directory')
      expect(state.homes).toEqual([{ url: home.url, users: 2 }])
      expect(state.users.rows.map((r) => [r.name, r.home, r.epoch])).toEqual([
        ['alice', home.url, 1],
        ['bob', home.url, 1],
      ])
    } finally {
      feed.close()
    }
  })
})
