// Workload (issue 7, item 8): replication lag and replica catch-up, as far as homedb replicates today: a read-only
// follower in one process tailing the log files of a writer in another (`openDb(…, { readOnly: true })`), the way
// a replica tails a user's log. Network shipping to a home server is not built yet; this measures the tailing and
// applying path a replica reuses, across a real process boundary.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from '../stats.js'
import { defineWorkload, type Sample, type SystemRun } from '../workload.js'
import { LagSchema, type LagWriterCommand, type LagWriterReply, wallClockMs } from './support/lag-protocol.js'

type ReplicationParams = {
  /** Single-row commits written one every `intervalMs` while the lag of each is measured. */
  readonly steadyCommits: number
  readonly intervalMs: number
  /** Single-row commits written as fast as the writer can (1 000 per event-loop turn) for the catch-up figure. */
  readonly burstCommits: number
}

const WRITER = fileURLToPath(new URL('./support/lag-writer.ts', import.meta.url))

/** The writer process and a way to await its next reply. */
class Writer {
  private readonly replies: LagWriterReply[] = []
  private wake: (() => void) | undefined
  private exited: string | undefined

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m) => {
      this.replies.push(m as LagWriterReply)
      this.wake?.()
    })
    child.on('exit', (code, signal) => {
      this.exited = `writer exited (code ${code}, signal ${signal})`
      this.wake?.()
    })
  }

  static start(dir: string): Writer {
    // The same loader flags as this runner (tsx, the source condition); stdout/stderr shared for error messages.
    const child = spawn(process.execPath, [...process.execArgv, WRITER, dir], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    return new Writer(child)
  }

  async reply(): Promise<LagWriterReply> {
    for (;;) {
      const reply = this.replies.shift()
      if (reply !== undefined) {
        if (reply.type === 'error') throw new Error(`lag writer: ${reply.message}`)
        return reply
      }
      if (this.exited !== undefined) throw new Error(this.exited)
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
      this.wake = undefined
    }
  }

  async command(command: LagWriterCommand): Promise<LagWriterReply> {
    this.child.send(command)
    return this.reply()
  }

  /** Sends a write command and returns the writer's `done` reply. */
  async write(command: LagWriterCommand): Promise<Extract<LagWriterReply, { type: 'done' }>> {
    const reply = await this.command(command)
    if (reply.type !== 'done') throw new Error(`lag writer replied ${reply.type} to ${command.type}`)
    return reply
  }

  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL')
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples')
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

function follower(followIntervalMs: number): SystemRun<ReplicationParams> {
  return async (params, ctx) => {
    const p: ReplicationParams = ctx.warmup
      ? { steadyCommits: 100, intervalMs: params.intervalMs, burstCommits: 5_000 }
      : params
    const dir = join(ctx.tmpDir(), 'db')
    const writer = Writer.start(dir)
    try {
      await writer.reply() // ready: the db exists
      const { openDb } = await import('@homedb/tables')
      const db = await openDb(LagSchema, { dir, readOnly: true, followIntervalMs })
      const lags: number[] = []
      let measuring = false
      let target = Number.POSITIVE_INFINITY
      let reachedAt = 0
      let reached: (() => void) | undefined
      const off = db.onCommit(({ seq, changes }) => {
        const now = wallClockMs()
        if (measuring) for (const c of changes.events ?? []) if (c.op === 'set') lags.push(now - c.value.t)
        if (seq >= target) {
          reachedAt = now
          reached?.()
        }
      })
      const until = (seq: number): Promise<void> =>
        new Promise((resolve) => {
          reached = resolve
          target = seq
          if (db.seq >= seq) {
            reachedAt = wallClockMs()
            resolve()
          }
        })

      measuring = true
      const steady = await writer.write({ type: 'steady', count: p.steadyCommits, intervalMs: p.intervalMs })
      await until(steady.seq)
      measuring = false
      if (lags.length !== p.steadyCommits) throw new Error(`follower saw ${lags.length} of ${p.steadyCommits}`)

      const burst = await writer.write({ type: 'burst', count: p.burstCommits })
      const { startMs, endMs } = burst
      if (startMs === undefined || endMs === undefined) throw new Error('burst reply without times')
      await until(burst.seq)
      off()
      const rows = db.events.size
      await db.close()
      if (rows !== p.steadyCommits + p.burstCommits) throw new Error(`follower holds ${rows} rows`)
      await writer.command({ type: 'close' })

      lags.sort((a, b) => a - b)
      const sample: Sample = {
        value: median(lags),
        metrics: {
          p99LagMs: percentile(lags, 99),
          maxLagMs: lags[lags.length - 1]!,
          catchUpMs: Math.max(0, reachedAt - endMs),
          replicatedPerSec: p.burstCommits / ((reachedAt - startMs) / 1000),
          writerPerSec: p.burstCommits / ((endMs - startMs) / 1000),
        },
      }
      return sample
    } finally {
      writer.kill()
    }
  }
}

/** Replication lag and catch-up of a read-only follower process. */
export const replication = defineWorkload<ReplicationParams>({
  name: 'replication',
  title: 'Replication lag and catch-up of a follower tailing a writer process',
  description:
    'A writer process opens a db (`durability: fsync`) and a follower in the bench process opens the same ' +
    'directory with `readOnly: true`, which tails the log files and applies each commit through the tables layer ' +
    '(the path a replica reuses). Steady phase: the writer commits one new row every `intervalMs`; each row ' +
    'carries the wall-clock time of its in-memory commit in the writer, and the follower records, in `onCommit`, ' +
    'how long after that it applied it: the headline figure is the median lag, `p99LagMs` and `maxLagMs` the ' +
    'tail. Burst phase: the writer commits `burstCommits` single-row commits as fast as it can; `catchUpMs` is how ' +
    'long after the writer finished (all durable) the follower had applied the last one, `replicatedPerSec` the ' +
    'commits per second from the burst\u2019s start to that moment, `writerPerSec` the writer\u2019s own rate. ' +
    '`follower-<n>ms`: the follower looks for new commits when a watch on the log directory reports a change, and ' +
    'at the latest every n ms (`followIntervalMs`; 25 ms is the default). ' +
    'Both processes read the same system clock. homedb only: no peer here replicates across processes by tailing ' +
    'files, and network shipping to a home server (the `@homedb/replication` transport) is not built yet.',
  unit: 'ms',
  params: (quick) => ({
    steadyCommits: quick ? 200 : 1_000,
    intervalMs: 2,
    burstCommits: quick ? 10_000 : 100_000,
  }),
  capMs: (quick) => (quick ? 30_000 : 60_000),
  repeats: 3,
  systems: {
    'follower-25ms': follower(25),
    'follower-5ms': follower(5),
    'follower-1ms': follower(1),
  },
  notes:
    'The follower\u2019s log watches the directory (inotify here), so it reads new frames as soon as the writer\u2019s ' +
    'batch reaches the file, whatever `followIntervalMs`; polling at that interval is only the fallback for file ' +
    'systems without change notices, which is why the three intervals give about the same lag. The writer\u2019s ' +
    'group commit writes each event-loop turn\u2019s commits at once, so a commit reaches the file (not yet ' +
    'fsynced) within a turn; the lag is that turn, the notice, reading and decoding the frame and applying it.',
})
