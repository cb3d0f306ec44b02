// `homedb users add|list` and `homedb status`: through a running server's admin endpoints (`--home URL`), or
// straight on a stopped server's data dir (`--data DIR`).
import { HomeService, type UserStatus } from '../home-service.js'
import { type DirectoryStatusAnswer, printDirectoryStatus } from './directory-status.js'

/** Where an admin command acts. */
export interface AdminTarget {
  readonly home?: string
  readonly data?: string
  readonly adminToken?: string
}

function adminToken(target: AdminTarget): string {
  const token = target.adminToken ?? process.env.HOMEDB_ADMIN_TOKEN
  if (token === undefined || token === '')
    throw new Error('the admin token is needed: --admin-token or HOMEDB_ADMIN_TOKEN')
  return token
}

async function call(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const url = `${target.home!.replace(/\/+$/, '')}${path}`
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${adminToken(target)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  const parsed = text === '' ? {} : (JSON.parse(text) as { error?: { code: string; message: string } })
  if (!response.ok) throw new Error(`${response.status} ${parsed.error?.code ?? ''}: ${parsed.error?.message ?? text}`)
  return parsed
}

async function withService<T>(data: string, fn: (service: HomeService) => Promise<T>): Promise<T> {
  const service = await HomeService.open({ dataDir: data })
  try {
    return await fn(service)
  } finally {
    await service.close()
  }
}

function checkTarget(target: AdminTarget): void {
  if ((target.home === undefined) === (target.data === undefined)) {
    throw new Error('give either --home URL (a running server) or --data DIR (a stopped one)')
  }
}

/** Adds a user; prints the token (shown once). */
export async function addUser(name: string, target: AdminTarget & { token?: string }): Promise<void> {
  checkTarget(target)
  const token =
    target.home !== undefined
      ? ((await call(target, 'POST', '/v1/admin/users', { name, token: target.token })) as { token: string }).token
      : await withService(target.data!, (s) =>
          s.addUser(name, target.token === undefined ? {} : { token: target.token }),
        )
  console.log(`added user ${name}`)
  console.log(`token: ${token}`)
  console.log('(store it now: the server keeps only a keyed hash of it)')
}

async function listAll(target: AdminTarget): Promise<{ server?: Record<string, number>; users: UserStatus[] }> {
  checkTarget(target)
  if (target.home !== undefined) return (await call(target, 'GET', '/v1/admin/status')) as { users: UserStatus[] }
  return withService(target.data!, async (s) => ({ users: s.users() }))
}

/** Lists users with epoch, generation, head and snapshot. */
export async function listUsers(target: AdminTarget & { json?: boolean }): Promise<void> {
  const { users } = await listAll(target)
  if (target.json) return void console.log(JSON.stringify(users, null, 2))
  if (users.length === 0) return void console.log('no users')
  for (const u of users) {
    const head = u.head === null ? 'head unknown (not touched since start)' : `head ${u.head.seq}`
    const snap = u.snapshot === null ? 'no snapshot' : `snapshot ${u.snapshot.seq}`
    console.log(`${u.name}  epoch ${u.epoch}  log-${u.generation}  ${head}  ${snap}  ${u.slots.length} replica(s)`)
  }
}

/** `homedb status URL`: the server, its users, their positions and replicas' lag. */
export async function status(url: string, options: { adminToken?: string; json?: boolean }): Promise<void> {
  const target = { home: url, ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }) }
  const result = await listAll(target)
  if ((result as { kind?: string }).kind === 'directory') {
    return printDirectoryStatus(url, result as unknown as DirectoryStatusAnswer, adminToken(target), !!options.json)
  }
  if (options.json) return void console.log(JSON.stringify(result, null, 2))
  const s = result.server ?? {}
  console.log(
    `${url}: ${s.users ?? result.users.length} users, ${s.openLogs ?? '?'} logs open, ${s.tails ?? '?'} tails waiting`,
  )
  for (const u of result.users) {
    const head = u.head === null ? '-' : String(u.head.seq)
    const where = u.movedTo === undefined ? '' : `  → ${u.movedTo.home} (epoch ${u.movedTo.epoch})`
    const move =
      u.move === undefined ? '' : `  move ${u.move.id} (${u.move.role}${u.move.other ? ` of ${u.move.other}` : ''})`
    console.log(`  ${u.name}  ${u.state}  epoch ${u.epoch}  head ${head}${where}${move}`)
    for (const r of u.slots) {
      console.log(
        `    replica ${r.name}  at ${r.seq}  lag ${r.lag ?? '?'}  confirmed ${new Date(r.confirmedAt).toISOString()}`,
      )
    }
  }
}
