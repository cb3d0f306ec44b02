// `homedb users add|list|rotate` and `homedb status`: through a running server's admin endpoints (`--home URL`,
// `--ca FILE` for a home whose certificate a private CA signed), or straight on a stopped server's data dir
// (`--data DIR`, with `--token-key` when the deployment shares one).
import { readFileSync } from 'node:fs'
import { HomeService } from '../home-service.js'
import { httpTransport } from '../http-transport.js'
import { readBody } from '../internal/wire-codec.js'
import type { UserStatus } from '../user-status.js'
import { type DirectoryStatusAnswer, printDirectoryStatus } from './directory-status.js'

/** Where an admin command acts. */
export interface AdminTarget {
  readonly home?: string
  readonly data?: string
  readonly adminToken?: string
  /** A CA certificate file (PEM) for an `https://` home. */
  readonly ca?: string
  /** The deployment's token key, for `--data` (or HOMEDB_TOKEN_KEY). */
  readonly tokenKey?: string
}

function adminToken(target: AdminTarget): string {
  const token = target.adminToken ?? process.env.HOMEDB_ADMIN_TOKEN
  if (token === undefined || token === '')
    throw new Error('the admin token is needed: --admin-token or HOMEDB_ADMIN_TOKEN')
  return token
}

async function call(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const transport = httpTransport(target.ca === undefined ? {} : { ca: readFileSync(target.ca) })
  try {
    const response = await transport.request({
      method,
      url: `${target.home!.replace(/\/+$/, '')}${path}`,
      headers: { authorization: `Bearer ${adminToken(target)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
    })
    const text = ((await readBody(response.body, 64 * 1024 * 1024)) ?? Buffer.alloc(0)).toString('utf8')
    const parsed = text === '' ? {} : (JSON.parse(text) as { error?: { code: string; message: string } })
    if (response.status >= 300) {
      throw new Error(`${response.status} ${parsed.error?.code ?? ''}: ${parsed.error?.message ?? text}`)
    }
    return parsed
  } finally {
    transport.close?.()
  }
}

async function withService<T>(target: AdminTarget, fn: (service: HomeService) => Promise<T>): Promise<T> {
  const tokenKey = target.tokenKey ?? process.env.HOMEDB_TOKEN_KEY
  const service = await HomeService.open({
    dataDir: target.data!,
    ...(tokenKey === undefined || tokenKey === '' ? {} : { tokenKey }),
  })
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
      : await withService(target, (s) => s.addUser(name, target.token === undefined ? {} : { token: target.token }))
  console.log(`added user ${name}`)
  console.log(`token: ${token}`)
  console.log('(store it now: the server keeps only a keyed hash of it)')
}

/** Gives a user a new token; prints it (shown once). The old token is refused from now on. */
export async function rotateToken(name: string, target: AdminTarget & { token?: string }): Promise<void> {
  checkTarget(target)
  const body = target.token === undefined ? {} : { token: target.token }
  const token =
    target.home !== undefined
      ? ((await call(target, 'POST', `/v1/admin/users/${encodeURIComponent(name)}/token`, body)) as { token: string })
          .token
      : await withService(target, (s) => s.rotateToken(name, body))
  console.log(`rotated the token of ${name}`)
  console.log(`token: ${token}`)
  console.log('(the old token is refused from now on; store this one now: the server keeps only a keyed hash)')
}

async function listAll(target: AdminTarget): Promise<{ server?: Record<string, number>; users: UserStatus[] }> {
  checkTarget(target)
  if (target.home !== undefined) return (await call(target, 'GET', '/v1/admin/status')) as { users: UserStatus[] }
  return withService(target, async (s) => ({ users: s.users() }))
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
export async function status(
  url: string,
  options: { adminToken?: string; json?: boolean; ca?: string },
): Promise<void> {
  const target = {
    home: url,
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  }
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
