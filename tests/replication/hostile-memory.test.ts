// Readers that stop reading cannot pin a home's memory: a home in a child process with 100 clients that each ask
// for a 16 MiB page (streamed: far more than the socket buffers on both sides hold) and then read nothing stays
// under the documented RSS bound (from /proc), and cuts every one of them after sendTimeoutMs: its descriptors
// return to where they were. An honest client is served meanwhile.
import { type ChildProcess, spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { headPosition, ship } from '@homedb/replication'
import { logOf, lookupTable, openDb, schema } from '@homedb/tables'
import { afterAll, describe, expect, it } from 'vitest'
import { addUserOverHttp } from './support/admin-http.js'
import { tempDirs } from './support/dirs.js'
import { openFds, rssBytes } from './support/home-process.js'
import { httpText } from './support/raw-http.js'

const Payload = schema({ blobs: lookupTable<number, { data: string }>() })
const next = tempDirs('hostile-memory')
const CHILD = fileURLToPath(new URL('./support/home-child.ts', import.meta.url))
const ADMIN = 'admin-token-for-tests'
const TOKEN = 'alice-token-for-tests'
const READERS = 100
/**
 * The documented bound (packages/replication/README.md, "Operating a home"): the at-rest 256 MiB plus 5 MiB per
 * reader that stopped reading. What such a reader pins is a log read window and a piece of answer; the rest is
 * what passed through the process to fill its socket buffers (several MiB each on loopback) before it blocked,
 * garbage the allocator may not have handed back yet.
 */
const RSS_BOUND = (256 + 5 * READERS) * 1024 * 1024
const SEND_TIMEOUT_MS = 4_000

let child: ChildProcess | undefined
const sockets: Socket[] = []
afterAll(() => {
  for (const s of sockets) s.destroy()
  child?.kill('SIGKILL')
})

async function startChild(options: object): Promise<{ url: string; pid: number }> {
  child = spawn(process.execPath, ['--conditions=@homedb/source', '--import', 'tsx', CHILD, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child!.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    child!.on('exit', (code) => reject(new Error(`home child exited (${code}):\n${out}`)))
  })
  return { url, pid: child.pid! }
}

/** Connects, sends `request`, and never reads a byte of the answer. */
function stalledReader(url: string, request: Buffer): Socket {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  socket.write(request)
  sockets.push(socket)
  return socket
}

describe('readers that stop reading', () => {
  it(`keep a home with ${READERS} of them under the RSS bound, and are cut after sendTimeoutMs`, async () => {
    const { url, pid } = await startChild({ dataDir: next(), adminToken: ADMIN, sendTimeoutMs: SEND_TIMEOUT_MS })
    await addUserOverHttp(url, ADMIN, 'alice', TOKEN)
    // 520 commits of 64 KiB: pages 0 and 1 (commits 1-512) are 16 MiB each, streamed to whoever asks.
    const db = await openDb(Payload, { dir: next() })
    const shipper = ship(db, { home: url, user: 'alice', token: TOKEN })
    for (let i = 0; i < 520; i++) db.blobs.insert(i, { data: String(i % 10).repeat(64 * 1024) })
    await db.sync()
    await shipper.flushed()
    const { logId } = headPosition(logOf(db))
    await shipper.close()
    const baseline = { rss: rssBytes(pid), fds: openFds(pid) }

    const auth = { authorization: `Bearer ${TOKEN}` }
    for (let i = 0; i < READERS; i++) {
      stalledReader(url, httpText('GET', `/v1/users/alice/logs/${logId}/pages/${i % 2}`, auth))
    }
    let peak = 0
    const sample = setInterval(() => {
      peak = Math.max(peak, rssBytes(pid))
    }, 25)
    try {
      // Every reader's request reached the server and its answer filled the pipe: wait for the fds to show them.
      await expect.poll(() => openFds(pid), { timeout: 10_000 }).toBeGreaterThanOrEqual(baseline.fds + READERS)
      await new Promise((r) => setTimeout(r, 1_000))
      const honest = await fetch(`${url}/v1/users/alice/log`, { headers: auth })
      expect(honest.status).toBe(200)
      // Then the server cuts them all: its descriptors go back to the baseline.
      const started = Date.now()
      await expect.poll(() => openFds(pid), { timeout: 4 * SEND_TIMEOUT_MS }).toBeLessThanOrEqual(baseline.fds + 2)
      const cutAfter = Date.now() - started
      console.log(
        `stalled readers: ${READERS}; RSS before ${(baseline.rss / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB (bound ${RSS_BOUND / 2 ** 20} MiB); all cut ${cutAfter} ms after the 1 s hold (sendTimeoutMs ${SEND_TIMEOUT_MS})`,
      )
    } finally {
      clearInterval(sample)
    }
    expect(peak).toBeLessThan(RSS_BOUND)
    await db.close()
  })
})
