// Figures for a home that faces the internet (issue 16), measured on a `homedb serve` child:
// 1. an honest writer's acknowledged-append latency (p50/p99), without and then with a flood of malformed and
//    unauthorized requests from another process beside it (same run), and the refusals per second the flood got;
// 2. the time of a 401 for a user that does not exist and for a wrong token, interleaved, as distributions.
// Run: node --conditions=@homedb/source --import tsx bench/src/hostile-flood.ts [--seconds 10] [--flooders 2]
//      [--rate N] (flood requests/s per flooder; 0, the default, as fast as the server answers)
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ship } from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import { ADMIN, startBenchHome } from './workloads/support/home.js'

const Core = schema({ files: lookupTable<string, { size: number }>() })

interface Answer {
  status: number
  ms: number
}

function send(agent: Agent, url: string, method: string, path: string, headers: Record<string, string>, body?: Buffer) {
  return new Promise<Answer>((resolve) => {
    const started = performance.now()
    const req = request(`${url}${path}`, { method, headers, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
      res.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    })
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }))
    req.end(body)
  })
}

/**
 * The flood: malformed and unauthorized requests of six kinds, on 16 kept-alive connections, for `seconds`, at
 * `rate` requests/s (0: as fast as they are answered).
 */
async function flood(url: string, seconds: number, rate: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const kinds: [string, string, Record<string, string>, Buffer | undefined][] = [
    [
      'POST',
      '/v1/users/victim/append',
      { authorization: 'Bearer victim-token-for-the-bench', 'homedb-position': 'nope', 'homedb-epoch': '1' },
      Buffer.alloc(64, 1),
    ],
    [
      'POST',
      '/v1/users/victim/append',
      {
        authorization: 'Bearer victim-token-for-the-bench',
        'homedb-position': `${'a'.repeat(32)}:0:${'0'.repeat(16)}`,
        'homedb-epoch': '1',
      },
      Buffer.alloc(40, 9),
    ],
    ['GET', '/v1/users/victim/log', { authorization: 'Bearer a-wrong-token-0123456' }, undefined],
    ['GET', '/v1/users/nobody/log', { authorization: 'Bearer a-wrong-token-0123456' }, undefined],
    ['GET', '/v1/users/..%2Fmeta/log', {}, undefined],
    ['POST', '/v1/admin/users', { authorization: 'Bearer not-the-admin-token' }, Buffer.from('{"name":"eve"}')],
  ]
  const counts: Record<string, number> = {}
  const started = Date.now()
  const end = started + seconds * 1000
  let n = 0
  const worker = async () => {
    while (Date.now() < end) {
      // Paced: request i is not sent before started + i / rate.
      const i = n++
      const due = rate > 0 ? started + (i * 1000) / rate - Date.now() : 0
      if (due > 0) await new Promise((r) => setTimeout(r, due))
      const [method, path, headers, body] = kinds[i % kinds.length]!
      const answer = await send(agent, url, method, path, headers, body)
      counts[answer.status] = (counts[answer.status] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  agent.destroy()
  console.log(JSON.stringify(counts))
}

/** Appends one commit at a time for `seconds` and returns each one's commit → acknowledged time, ms. */
async function honestAppends(url: string, token: string, dir: string, seconds: number): Promise<number[]> {
  const db = await openDb(Core, { dir })
  const shipper = ship(db, { home: url, user: 'honest', token })
  const times: number[] = []
  const end = Date.now() + seconds * 1000
  for (let i = 0; Date.now() < end; i++) {
    const started = performance.now()
    db.files.insert(`f${i % 1000}`, { size: i })
    await shipper.flushed()
    times.push(performance.now() - started)
  }
  await shipper.close()
  await db.close()
  return times
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

function summary(times: number[]): string {
  const s = [...times].sort((a, b) => a - b)
  return `n ${s.length}, p50 ${quantile(s, 0.5).toFixed(2)} ms, p90 ${quantile(s, 0.9).toFixed(2)} ms, p99 ${quantile(s, 0.99).toFixed(2)} ms`
}

async function startFlooders(
  url: string,
  seconds: number,
  n: number,
  rate: number,
): Promise<Promise<Record<string, number>>[]> {
  return Array.from({ length: n }, () => {
    const args = [process.argv[1]!, '--flood', url, '--seconds', String(seconds), '--rate', String(rate)]
    const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    return new Promise((resolve) => child.on('exit', () => resolve(JSON.parse(out.trim() || '{}'))))
  })
}

async function equalTime(url: string, token: string, samples: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const missing: number[] = []
  const wrong: number[] = []
  for (let i = 0; i < samples; i++) {
    // Interleaved, the same token length and path length, so both see the same machine at the same moments.
    const a = await send(agent, url, 'GET', '/v1/users/nobody/log', {
      authorization: `Bearer ${token.replace(/.$/, '!')}`,
    })
    const b = await send(agent, url, 'GET', '/v1/users/honest/log', {
      authorization: `Bearer ${token.replace(/.$/, '!')}`,
    })
    if (a.status !== 401 || b.status !== 401) throw new Error(`expected 401s, got ${a.status} ${b.status}`)
    missing.push(a.ms)
    wrong.push(b.ms)
  }
  agent.destroy()
  console.log(`401 for a user that does not exist: ${summary(missing)}`)
  console.log(`401 for a wrong token:              ${summary(wrong)}`)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      flood: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      flooders: { type: 'string', default: '2' },
      samples: { type: 'string', default: '5000' },
      rate: { type: 'string', default: '0' },
    },
  })
  const seconds = Number(values.seconds)
  const rate = Number(values.rate)
  if (values.flood !== undefined) return flood(values.flood, seconds, rate)
  const root = mkdtempSync(join(tmpdir(), 'homedb-hostile-flood-'))
  // The per-token rate limit stays on at its default: the flood is refused by it too, as in production.
  const home = await startBenchHome(join(root, 'home'))
  try {
    const token = await home.addUser('honest')
    await home.addUser('victim')
    console.log(`home ${home.url} (pid ${home.pid}); admin token ${ADMIN.length} characters`)
    const off = await honestAppends(home.url, token, join(root, 'w1'), seconds)
    console.log(`honest appends, flood off: ${summary(off)}`)
    const flooders = await startFlooders(home.url, seconds + 1, Number(values.flooders), rate)
    await new Promise((r) => setTimeout(r, 500))
    const on = await honestAppends(home.url, token, join(root, 'w1'), seconds)
    const counts = await Promise.all(flooders)
    console.log(`honest appends, flood on:  ${summary(on)}`)
    const total: Record<string, number> = {}
    for (const c of counts) for (const [k, v] of Object.entries(c)) total[k] = (total[k] ?? 0) + v
    const refused = Object.entries(total)
      .filter(([k]) => Number(k) >= 400)
      .reduce((n, [, v]) => n + v, 0)
    console.log(
      `flood: ${JSON.stringify(total)} → ${(refused / (seconds + 1)).toFixed(0)} refused/s over ${seconds + 1} s`,
    )
    await equalTime(home.url, token, Number(values.samples))
  } finally {
    await home.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

await main()
