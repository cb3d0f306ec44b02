// A move's target serves the whole copy from the moment it activates. Its activation makes the user active in the
// home's records before those records are durable, and reads do not wait for it (they take no user lock): a replica
// sent there by the source's `moved` can ask in that window. It used to find the head the copy's log had when it was
// created (seq 0), so the position it continued from was `diverged` and it reloaded from scratch (found as a flake of
// tests/replication/homing.test.ts on a loaded machine). Here the target's record write is held in that window on
// purpose, with both homes driven directly through an in-process transport.
import { join } from 'node:path'
import { type FileLayer, nodeFileLayer, openLog } from '@homedb/log'
import { wrapFileLayer } from '@homedb/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { HEADERS, HomeService, type Transport, type TransportRequest, type WireResponse } from '../src/index.js'
import { MemoryDirectory } from './support/memory-directory.js'
import { tempDir } from './support/temp-dir.js'

const next = tempDir()
const ADMIN = 'move-target-admin-token'
const TOKEN = 'alice-token-for-tests'
const A = 'http://a.test'
const B = 'http://b.test'

const homes = new Map<string, HomeService>()
const dataDirs = new Map<string, string>()
const gates: MetaGate[] = []
afterEach(async () => {
  for (const gate of gates.splice(0)) gate.open()
  for (const home of [...homes.values()].reverse()) await home.close()
  homes.clear()
})

/** Holds every write and sync of the files under `dir` while closed (the home's records, here). */
interface MetaGate {
  readonly layer: FileLayer
  /** Holds from now on; resolves once a write or sync waits at the gate. */
  close(): Promise<void>
  open(): void
}

function metaGate(dir: string): MetaGate {
  let held: Promise<void> | undefined
  let release = () => {}
  let waiting = () => {}
  const pass = async () => {
    if (held === undefined) return
    waiting()
    await held
  }
  const layer = wrapFileLayer(nodeFileLayer, {
    handle: (handle, path) =>
      path.startsWith(dir)
        ? {
            write: async (...args) => pass().then(() => handle.write(...args)),
            datasync: async () => pass().then(() => handle.datasync()),
            sync: async () => pass().then(() => handle.sync()),
          }
        : {},
  })
  return {
    layer,
    close() {
      held = new Promise((resolve) => {
        release = resolve
      })
      return new Promise((resolve) => {
        waiting = resolve
      })
    },
    open() {
      held = undefined
      release()
    },
  }
}

/** Requests go straight to the home service their URL names. */
const inProcess: Transport = {
  async request(request: TransportRequest) {
    const url = new URL(request.url)
    const home = homes.get(url.origin)
    if (home === undefined) throw Object.assign(new Error(`no home at ${url.origin}`), { code: 'ECONNREFUSED' })
    const parts: Uint8Array[] = []
    if (request.body instanceof Uint8Array) parts.push(request.body)
    else if (request.body !== undefined) for await (const part of request.body) parts.push(part)
    const answer = await home.handle({
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body: Buffer.concat(parts),
      signal: request.signal ?? new AbortController().signal,
    })
    return { status: answer.status, headers: answer.headers, body: bodyOf(answer) }
  },
}

async function* bodyOf(answer: WireResponse): AsyncGenerator<Uint8Array> {
  if (answer.body instanceof Uint8Array) yield answer.body
  else if (answer.body !== undefined) yield* answer.body
}

async function call(
  at: string,
  method: TransportRequest['method'],
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; headers: Readonly<Record<string, string>>; json: Record<string, unknown> }> {
  const body = options.body instanceof Uint8Array ? options.body : Buffer.from(JSON.stringify(options.body ?? {}))
  const answer = await inProcess.request({
    method,
    url: `${at}${path}`,
    headers: { authorization: `Bearer ${options.token ?? TOKEN}` },
    ...(method === 'GET' ? {} : { body }),
  })
  const parts: Uint8Array[] = []
  for await (const part of answer.body) parts.push(part)
  const text = Buffer.concat(parts).toString('utf8')
  const json = (answer.headers['content-type'] ?? '').includes('json') && text !== '' ? JSON.parse(text) : {}
  return { status: answer.status, headers: answer.headers, json }
}

async function start(url: string, directory: MemoryDirectory, fileLayer?: FileLayer): Promise<HomeService> {
  const home = await HomeService.open({
    dataDir: dataDirs.get(url)!,
    adminToken: ADMIN,
    directory,
    publicUrl: url,
    transport: inProcess,
    processMetrics: false,
    ...(fileLayer === undefined ? {} : { fileLayer }),
  })
  home.listening(url)
  homes.set(url, home)
  return home
}

/** Appends `count` commits of a writer's log to alice at `home` under homeEpoch 1. */
async function shipCommits(home: string, count: number): Promise<void> {
  const log = await openLog(undefined, { durability: 'memory' })
  for (let i = 0; i < count; i++) log.append(Buffer.from(`c${i + 1}`))
  const frames: Uint8Array[] = []
  for await (const c of log.readEncoded({ from: 0 })) frames.push(c.frame)
  const answer = await inProcess.request({
    method: 'POST',
    url: `${home}/v1/users/alice/append`,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'homedb-position': `${log.logId}:0:${log.start.chain}`,
      'homedb-epoch': '1',
      'content-type': 'application/vnd.homedb.frames',
    },
    body: Buffer.concat(frames),
  })
  for await (const _ of answer.body);
  expect(answer.status).toBe(200)
  await log.close()
}

describe("a move's target", () => {
  it('serves every copied commit as soon as its record says active, before that record is durable', async () => {
    const directory = new MemoryDirectory()
    dataDirs.set(A, next())
    dataDirs.set(B, next())
    const gate = metaGate(join(dataDirs.get(B)!, 'meta'))
    gates.push(gate)
    const source = await start(A, directory)
    const target = await start(B, directory, gate.layer)
    await source.addUser('alice', { token: TOKEN })
    await shipCommits(A, 40)

    // The move's steps up to the switch, as moveUser takes them: reserve (the copy starts), freeze, wait for the head.
    const moveId = 'move-1'
    const reserved = await call(B, 'POST', '/v1/admin/moves/alice/reserve', {
      token: ADMIN,
      body: { moveId, from: A, as: B, epoch: 2 },
    })
    expect(reserved.status).toBe(200)
    const frozen = await call(A, 'POST', '/v1/admin/moves/alice/freeze', {
      token: ADMIN,
      body: { moveId, leaseMs: 60_000 },
    })
    const head = frozen.json.head as { logId: string; seq: number; chain: string }
    expect(head.seq).toBe(40)
    const waited = await call(B, 'POST', '/v1/admin/moves/alice/wait', {
      token: ADMIN,
      body: { moveId, position: head, timeoutMs: 10_000 },
    })
    expect(waited.json.verdict).toBe('reached')

    // The switch: the target activates (it watches the directory), and its record write is held before it is durable.
    const held = gate.close()
    await directory.compareAndSet('alice', 1, { home: B, homeEpoch: 2, state: 'active' })
    await held
    await expect.poll(() => target.users().find((u) => u.name === 'alice')?.state, { timeout: 5_000 }).toBe('active')

    // A replica at the frozen head, sent here by the source's `moved`, continues from that position.
    const position = `${head.logId}:${head.seq}:${head.chain}`
    const tail = await call(B, 'GET', `/v1/users/alice/frames?position=${position}&wait=0`)
    expect(tail.json.error).toBeUndefined()
    expect(tail.status).toBe(200)
    expect(tail.headers[HEADERS.head]).toBe(position)
    // Its reload, had it needed one, would read the log info: the same head, and every commit from the start.
    const info = await call(B, 'GET', '/v1/users/alice/log')
    const log = info.json.log as { head: unknown; start: { seq: number; chain: string } }
    expect(log.head).toEqual(head)
    const fromStart = await call(B, 'GET', `/v1/users/alice/frames?position=${head.logId}:0:${log.start.chain}&wait=0`)
    expect(fromStart.status).toBe(200)
    expect(fromStart.headers[HEADERS.head]).toBe(position)

    gate.open()
    await expect
      .poll(async () => (await call(B, 'GET', '/v1/admin/moves/alice', { token: ADMIN })).json.state, {
        timeout: 5_000,
      })
      .toBe('active')
  })
})
