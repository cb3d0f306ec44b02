// `homedb inspect DIR`, `homedb verify DIR` and `homedb restore`: the log-level commands. verify checks a single log
// or, given a home's data dir, every user's log (with progress); restore rebuilds a writer's log from its home.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type VerifyReport, verifyLog } from '@homedb/log'
import { restoreLog } from '@homedb/tables'
import { HomeService } from '../home-service.js'
import { homeSource } from '../home-source.js'
import { progress } from './progress.js'

function describe(report: VerifyReport): string[] {
  const lines = [
    `log ${report.logId ?? '(none)'} in ${report.dir}`,
    `  head  seq ${report.head.seq} chain ${report.head.chain}`,
    `  start seq ${report.start.seq} chain ${report.start.chain}`,
  ]
  for (const s of report.segments) {
    lines.push(
      `  segment  ${s.file}  ${s.bytes} bytes  seq ${s.firstSeq}..${s.lastSeq}  ${s.sealed ? 'sealed' : 'active'}`,
    )
  }
  for (const s of report.snapshots) {
    lines.push(`  snapshot ${s.file}  seq ${s.seq}  ${s.bytes} bytes  ${s.valid ? 'valid' : `INVALID (${s.problem})`}`)
  }
  lines.push(`  lock  ${report.lock === undefined ? 'none' : `pid ${report.lock.pid} on ${report.lock.hostname}`}`)
  lines.push('  holds live in the writer\u2019s memory (a home lists its replica slots with `homedb status`)')
  for (const d of report.damage)
    lines.push(`  DAMAGE ${d.kind}: ${d.file} byte ${d.offset} after seq ${d.seq} (${d.problem})`)
  return lines
}

/** Prints a log's segments, snapshots, head and lock. */
export async function inspect(dir: string): Promise<void> {
  for (const line of describe(await verifyLog(dir))) console.log(line)
}

async function userLogs(dataDir: string): Promise<string[] | undefined> {
  let service: HomeService
  try {
    service = await HomeService.open({ dataDir })
  } catch {
    return undefined
  }
  try {
    const users = service.users()
    // Users whose writer never shipped have no log yet.
    return users.map((u) => join(dataDir, 'users', u.name, `log-${u.generation}`)).filter((d) => existsSync(d))
  } finally {
    await service.close()
  }
}

/** Verifies a log (or every user log of a home data dir); exits non-zero on damage. */
export async function verify(dir: string, options: { home?: boolean }): Promise<void> {
  const dirs = options.home ? ((await userLogs(dir)) ?? []) : [dir]
  const bar = progress('verify')
  let damaged = 0
  const problems: string[] = []
  for (const [i, d] of dirs.entries()) {
    const report = await verifyLog(d).catch((error: unknown) => ({ error: error as Error }))
    if ('error' in report) {
      problems.push(`${d}: ${report.error.message}`)
    } else if (!report.ok) {
      damaged++
      problems.push(...describe(report).filter((l) => l.includes('DAMAGE') || l.startsWith('log ')))
    }
    bar.update(i + 1, dirs.length, damaged > 0 ? `${damaged} damaged` : '')
  }
  bar.stop()
  for (const p of problems) console.log(p)
  console.log(problems.length === 0 ? `ok: ${dirs.length} log(s) verified` : `DAMAGED: ${problems.length} problem(s)`)
  if (problems.length > 0) process.exitCode = 1
}

/** Restores DIR from the user's home, with progress. */
export async function restore(
  dir: string,
  options: { home: string; user: string; token?: string; force?: boolean; ca?: string },
): Promise<void> {
  const token = options.token ?? process.env.HOMEDB_TOKEN
  if (token === undefined || token === '') throw new Error('the user\u2019s token is needed: --token or HOMEDB_TOKEN')
  const bar = progress('restore')
  const ca = options.ca === undefined ? {} : { ca: readFileSync(options.ca) }
  const report = await restoreLog(dir, homeSource({ home: options.home, user: options.user, token, ...ca }), {
    force: options.force ?? false,
    onProgress(event) {
      if (event.phase === 'moved-aside') console.log(`moved aside: ${event.files.join(', ')}`)
      else if (event.phase === 'snapshot') console.log(`snapshot at seq ${event.seq} installed (${event.bytes} bytes)`)
      else if (event.phase === 'frames') bar.update(event.seq, event.headSeq, `${event.bytes} bytes`)
    },
  })
  bar.stop()
  console.log(
    `restored ${dir}: log ${report.logId} at seq ${report.head.seq} (${report.commits} commits after the snapshot)`,
  )
}
