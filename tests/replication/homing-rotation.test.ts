// A token rotated while its user moves (found by the simulation, tests/sim/: the target copied the token's hash when
// it reserved the user, the operator rotated the token on the source before the freeze, and after the switch the new
// home refused the new token forever). The target now takes the source's token verifier again once its copy reached
// the frozen head, and a home refuses rotations while a move holds the user (`busy`) or after it moved (`moved`).
import {
  type DirectoryServer,
  type HomeServer,
  moveUser,
  ship,
  type Transport,
  UserStateError,
} from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { describe, expect, it } from 'vitest'
import { localDeployments } from './support/deployment.js'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('homing-rotation')
const ADMIN = 'homing-rotation-admin-token'
const OLD = 'alice-token-before-rotation'
const NEW = 'alice-token-after-rotation'
const Core = schema({ files: lookupTable<string, { n: number }>() })
const retry = { baseMs: 10, maxMs: 200, loopLimit: 6 }

const deploy = localDeployments(next, ADMIN)

async function twoHomes(): Promise<[HomeServer, HomeServer, DirectoryServer]> {
  const { directory, homes } = await deploy(2)
  return [homes[0]!, homes[1]!, directory]
}

/** A transport for the mover that lets its freeze go only once `before()` has run (in order, not by timing). */
async function freezeAfter(before: () => Promise<void>): Promise<Transport> {
  const { httpTransport } = await import('@homedb/replication')
  const http = httpTransport()
  return {
    async request(request) {
      if (request.url.endsWith('/freeze')) await before()
      return http.request(request)
    },
    close: () => http.close?.(),
  }
}

describe('token rotation and moves', () => {
  it('the moved user keeps the token rotated on the source while the target copied it', async () => {
    const [a, b, d] = await twoHomes()
    await a.addUser('alice', { token: OLD })
    const db = await openDb(Core, { dir: next() })
    for (let i = 0; i < 20; i++) db.files.insert(`f${i}`, { n: i })
    const before = ship(db, { directory: d.url, user: 'alice', token: OLD, retry })
    await before.flushed()
    await before.close()

    // The rotation lands on the source after the target reserved the user and copied its token hash.
    const transport = await freezeAfter(async () => {
      await a.rotateToken('alice', { token: NEW })
    })
    const moved = await moveUser({ directory: d.url, user: 'alice', to: b.url, adminToken: ADMIN, transport })
    transport.close?.()
    expect(moved.epoch).toBe(2)

    db.files.insert('after', { n: 1 })
    const after = ship(db, { directory: d.url, user: 'alice', token: NEW, retry })
    await after.flushed()
    expect(after.status.ackedSeq).toBe(db.seq)
    await after.close()
    await db.close()
  })

  it('refuses to rotate a token while a move holds the user, and sends the operator on once it moved', async () => {
    const [a, b, d] = await twoHomes()
    await a.addUser('alice', { token: OLD })
    let refusedWhileFrozen: unknown
    const transport = await freezeAfter(async () => undefined)
    const frozen: Transport = {
      async request(request) {
        const answer = await transport.request(request)
        if (request.url.endsWith('/freeze')) refusedWhileFrozen = await a.rotateToken('alice').catch((e) => e)
        return answer
      },
      close: () => transport.close?.(),
    }
    await moveUser({ directory: d.url, user: 'alice', to: b.url, adminToken: ADMIN, transport: frozen })
    frozen.close?.()
    expect(refusedWhileFrozen).toBeInstanceOf(UserStateError)
    expect((refusedWhileFrozen as UserStateError).code).toBe('REPLICATION_BUSY')

    const afterMove = await a.rotateToken('alice').catch((e: unknown) => e)
    expect(afterMove).toBeInstanceOf(UserStateError)
    expect((afterMove as UserStateError).code).toBe('REPLICATION_MOVED')
    expect((afterMove as UserStateError).context).toMatchObject({ home: b.url, epoch: 2 })
    const http = await fetch(`${a.url}/v1/admin/users/alice/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(http.status).toBe(409)
    expect(((await http.json()) as { error: { code: string; home: string } }).error).toMatchObject({
      code: 'moved',
      home: b.url,
    })
    await expect(b.rotateToken('alice', { token: NEW })).resolves.toBe(NEW)
  })
})
