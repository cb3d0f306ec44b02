// Seeded torture runs of @homedb/tables (public API only) on the simulated file system: concurrent writers run
// random transactions (some aborted on purpose), await some of them, compact (by hand and automatically) and
// reopen, while a plain in-memory model records the state after every commit. Each boot ends in a power cut at a
// random call, an injected I/O error (fault runs) or a clean close; the reopened db must equal the model at a
// commit at or after the last acknowledged one, or, only if durable bits were flipped, refuse with a corruption error.
import { list, lookupSet, lookupTable, openDb, schema, single, TablesError } from '@homedb/tables'
import {
  type BitFlip,
  CRASH_MODES,
  type CrashMode,
  isInjected,
  isSimCrash,
  type Rng,
  SIM_OPS,
  SimFs,
  type SimOp,
  seededRng,
} from '@homedb/testkit'
import { TortureFailure } from './log-model.js'
import { dsyncFor, emptyStats, layoutFor, type RunStats, replayCommand } from './power-loss.js'

interface Item {
  n: number
  s: string
}

/** The schema every tables run uses: one table of each shape the workload exercises. */
export const TortureSchema = schema({
  kv: lookupTable<string, Item>(),
  events: list<number>(),
  tags: lookupSet<string, string>(),
  meta: single<{ v: number }>(),
})

type TortureDb = Awaited<ReturnType<typeof openDb<typeof TortureSchema.tables>>>

/** The model's state: plain maps, sets and arrays. */
interface State {
  kv: Map<string, Item>
  events: number[]
  tags: Map<string, Set<string>>
  meta: { v: number } | undefined
}

const emptyState = (): State => ({ kv: new Map(), events: [], tags: new Map(), meta: undefined })

function cloneState(s: State): State {
  return {
    kv: new Map(s.kv),
    events: [...s.events],
    tags: new Map([...s.tags].map(([k, v]) => [k, new Set(v)])),
    meta: s.meta,
  }
}

/** A canonical text of a state: maps and sets by sorted key (iteration order is not part of the durability promise). */
function canonical(
  kv: Iterable<[string, Item]>,
  events: readonly number[],
  tags: Iterable<[string, Iterable<string>]>,
  meta: unknown,
): string {
  return JSON.stringify({
    kv: [...kv].map(([k, v]) => [k, v.n, v.s]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    events,
    tags: [...tags].map(([k, set]) => [k, [...set].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    meta: meta ?? null,
  })
}

const canonicalState = (s: State) => canonical(s.kv, s.events, s.tags, s.meta)
const canonicalDb = (db: TortureDb) =>
  canonical(
    db.kv.data as ReadonlyMap<string, Item>,
    db.events.data,
    db.tags.data as ReadonlyMap<string, ReadonlySet<string>>,
    db.meta.get(),
  )

/** What the model knows: the state after every seq of the current history, and what was acknowledged. */
class TablesModel {
  readonly states = new Map<number, string>([[0, canonicalState(emptyState())]])
  state = emptyState()
  last = 0
  acked = 0
  ack(seq: number): void {
    if (seq > this.acked) this.acked = seq
  }
  truncateTo(seq: number): void {
    for (const s of [...this.states.keys()]) if (s > seq) this.states.delete(s)
    this.last = seq
    this.acked = Math.min(this.acked, seq)
  }
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']
const MEMBERS = ['x', 'y', 'z', 'w']
/** The key whose set outgrows a snapshot chunk. */
const BIG = 'big'

/** One random mutation, applied to the db (inside a transaction) and to the model's working copy. */
function mutate(db: TortureDb, s: State, rng: Rng): void {
  // Now and then one key gets a set larger than a snapshot chunk (1 024 operations), and later writes touch it, so
  // compactions running beside the writers meet a collection that changes while they write it out.
  if (rng.chance(0.002)) {
    const set = s.tags.get(BIG) ?? new Set<string>()
    for (let i = 0; i < 5_000; i++) {
      db.tags.insert(BIG, `m${i}`)
      set.add(`m${i}`)
    }
    s.tags.set(BIG, set)
    return
  }
  if (s.tags.has(BIG) && rng.chance(0.1)) {
    if (rng.chance(0.05)) {
      db.tags.clearKey(BIG)
      s.tags.delete(BIG)
      return
    }
    const gone = `m${rng.int(0, 4_999)}`
    const added = `n${rng.int(0, 1_000_000)}`
    db.tags.remove(BIG, gone)
    db.tags.insert(BIG, added)
    const set = s.tags.get(BIG)!
    set.delete(gone)
    set.add(added)
    return
  }
  const r = rng.next()
  const key = rng.pick(KEYS)
  if (r < 0.35) {
    const item = { n: rng.int(0, 1_000_000), s: 'v'.repeat(rng.chance(0.05) ? rng.int(500, 3000) : rng.int(0, 60)) }
    db.kv.insert(key, item)
    s.kv.delete(key)
    s.kv.set(key, item)
  } else if (r < 0.45) {
    db.kv.remove(key)
    s.kv.delete(key)
  } else if (r < 0.6) {
    const n = rng.int(0, 1000)
    db.events.push(n)
    s.events.push(n)
  } else if (r < 0.65) {
    if (s.events.length === 0) return
    db.events.pop()
    s.events.pop()
  } else if (r < 0.8) {
    const m = rng.pick(MEMBERS)
    db.tags.insert(key, m)
    const set = s.tags.get(key) ?? new Set<string>()
    set.add(m)
    s.tags.set(key, set)
  } else if (r < 0.87) {
    const m = rng.pick(MEMBERS)
    db.tags.remove(key, m)
    s.tags.get(key)?.delete(m)
  } else if (r < 0.9) {
    db.tags.clearKey(key)
    s.tags.delete(key)
  } else if (r < 0.97) {
    const v = { v: rng.int(0, 100) }
    db.meta.insert(v)
    s.meta = v
  } else if (r < 0.99) {
    db.meta.clear()
    s.meta = undefined
  } else {
    db.kv.clear()
    s.kv.clear()
  }
}

/** Options of {@link runTablesSeed}. */
export interface TablesRunOptions {
  faults: boolean
  flipProbability?: number
  /** Whether the simulated file system gives O_DSYNC writes; default: decided by the seed (`dsyncFor`). */
  dsync?: boolean
}

const ABORT = new Error('aborted on purpose')

function mustFailStop(op: SimOp, path: string, mode: string | undefined): boolean {
  if (op === 'open') return mode !== 'r'
  if (op === 'unlink') return !path.endsWith('.tmp')
  return ['write', 'datasync', 'sync', 'truncate', 'rename', 'syncDir', 'mkdir'].includes(op)
}

const corruptionRefusal = (error: unknown): boolean =>
  error instanceof TablesError &&
  (error.code === 'TABLES_CORRUPT_OP' ||
    ['LOG_CORRUPT', 'LOG_NEED_SNAPSHOT'].includes(String((error.context as { logCode?: unknown }).logCode)))

/** Runs one seeded tables run; throws a TortureFailure naming the seed and the replay command on a broken guarantee. */
export async function runTablesSeed(seed: number, options: TablesRunOptions): Promise<RunStats> {
  const trace: string[] = []
  const note = (line: string) => {
    trace.push(line)
    if (trace.length > 60) trace.shift()
  }
  const open = new Set<TortureDb>()
  try {
    return await run(seed, options, note, open)
  } catch (error) {
    for (const db of open) await db.close().catch(() => undefined)
    const message =
      error instanceof TortureFailure
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error)
    const failure = new TortureFailure(
      `seed ${seed} (tables ${options.faults ? 'fault' : 'power-loss'} run) failed: ${message}\n` +
        `  replay: ${replayCommand(seed, options.faults, 'tables')}\n  trace:\n    ${trace.join('\n    ')}`,
    )
    failure.cause = error
    throw failure
  }
}

async function run(
  seed: number,
  options: TablesRunOptions,
  note: (line: string) => void,
  open: Set<TortureDb>,
): Promise<RunStats> {
  const rng = seededRng(seed ^ 0x7ab1e5)
  const stats = emptyStats()
  stats.runs = 1
  const dir = `/db/tables-${seed}`
  const model = new TablesModel()
  const segmentBytes = rng.pick([1024, 2048, 4096])
  const autoCompact = rng.chance(0.5)
    ? (false as const)
    : { ratio: rng.pick([1, 2, 4]), minBytes: rng.pick([512, 2048]) }
  const logId = Buffer.from(rng.bytes(16)).toString('hex')
  const dsync = options.dsync ?? dsyncFor(seed)
  let fs = new SimFs(rng.fork(), { dsync })
  fs.putDir('/db')
  let flips: BitFlip[] = []
  const boots = rng.int(2, 4)
  note(
    `segmentBytes ${segmentBytes}, autoCompact ${JSON.stringify(autoCompact)}, ${boots} boots, ${dsync ? 'O_DSYNC writes' : 'write + fdatasync'}`,
  )
  if (dsync) stats.dsyncRuns++

  const reboot = async (db: TortureDb | undefined, kind: 'crash' | 'restart', midCall: boolean) => {
    stats.fsCalls += fs.counters.total
    if (kind === 'restart') {
      const next = fs.restart(rng.fork())
      note(`process restart, lock ${next.lock}`)
      stats.restarts++
      await db?.close().catch(() => undefined)
      fs = next.fs
      return
    }
    const mode: CrashMode = rng.pick(CRASH_MODES)
    const crashed = fs.crash(mode, rng.fork(), { flipProbability: options.flipProbability ?? 0.04 })
    note(
      `power cut (${mode}${midCall ? ` at ${fs.crashedAt?.op} ${fs.crashedAt?.path.split('/').pop()}` : ', at rest'})${crashed.report.flips.length ? ` flipped ${crashed.report.flips.map((f) => `${f.path.split('/').pop()}@${f.offset}`).join(' ')}` : ''}`,
    )
    stats.crashes++
    if (midCall) stats.crashesMidCall++
    stats.crashModes[mode]++
    if (crashed.report.flips.length > 0) stats.flipCrashes++
    flips = [...flips, ...crashed.report.flips]
    await db?.close().catch(() => undefined)
    fs = crashed.fs
  }

  for (let boot = 1; boot <= boots + 1; boot++) {
    const last = boot === boots + 1
    stats.boots++
    const faultAtOpen = options.faults && !last && rng.chance(0.2)
    if (faultAtOpen) fs.arm({ op: rng.pick(SIM_OPS), nth: rng.int(1, 6), code: rng.pick(['EIO', 'ENOSPC'] as const) })
    let db: TortureDb
    // Errors of this db's background work (automatic compaction); a crashed db's late errors stay with it.
    const background: unknown[] = []
    const layout = layoutFor(seed, boot)
    if (!layout.preallocate || layout.keepRecentBytes === 0) note(`boot ${boot}: ${JSON.stringify(layout)}`)
    if (!layout.preallocate) stats.unpreallocatedBoots++
    try {
      db = await openDb(TortureSchema, {
        dir,
        fileLayer: fs,
        segmentBytes,
        autoCompact,
        create: { logId },
        ...layout,
        onError: (error) => {
          background.push(error)
        },
      })
      open.add(db)
    } catch (error) {
      if (flips.length > 0 && corruptionRefusal(error)) {
        note(`open refused: ${(error as Error).message}`)
        stats.refusals++
        return stats
      }
      const fired = fs.fired[0]
      if (!fired || !isInjected(error)) throw error
      stats.faults++
      stats.faultsByOp[fired.spec.op]++
      note(`fault ${fired.spec.code} on ${fired.call.op} during open`)
      fs.disarm()
      await reboot(undefined, rng.chance(0.5) ? 'restart' : 'crash', false)
      continue
    }
    if (faultAtOpen && fs.fired.length > 0)
      throw new TortureFailure('openDb succeeded although an injected fault fired')
    fs.disarm()

    // ---- the reopened db against the model
    const seq = db.seq
    note(`boot ${boot}: seq ${seq}, acked ${model.acked}, last ${model.last}`)
    if (seq > model.last)
      throw new TortureFailure(`the db opened at seq ${seq}, but only ${model.last} commits were made`)
    const want = model.states.get(seq)
    if (want === undefined) throw new TortureFailure(`no model state for seq ${seq}`)
    if (seq < model.acked || canonicalDb(db) !== want) {
      if (flips.length === 0) {
        if (seq < model.acked)
          throw new TortureFailure(`acknowledged seq ${model.acked} lost: the db opened at seq ${seq}`)
        throw new TortureFailure(
          `the db at seq ${seq} differs from the model:\n  db    ${canonicalDb(db)}\n  model ${want}`,
        )
      }
      if (canonicalDb(db) !== want)
        throw new TortureFailure(`a wrong state at seq ${seq} after bit flips (never allowed)`)
      note('acknowledged commits lost to flipped bits in the last batch (the documented limit)')
      stats.knownLimit++
    } else if (flips.length > 0) stats.harmlessFlips++
    flips = []
    model.truncateTo(seq)
    model.state = restore(want)
    await db.sync()
    model.ack(seq)
    if (last) {
      await db.close()
      stats.fsCalls += fs.counters.total
      return stats
    }

    // ---- the workload
    const ending = rng.pick(
      options.faults
        ? (['fault', 'fault', 'crash', 'close'] as const)
        : (['crash', 'crash', 'crash', 'close'] as const),
    )
    if (ending === 'crash') fs.crashAfterCalls(rng.int(1, rng.pick([20, 80, 300, 1000])))
    if (ending === 'fault') {
      const op = rng.pick<SimOp>(['write', 'datasync', 'read', 'open', 'syncDir', 'unlink', 'rename', 'sync', 'size'])
      fs.arm({
        op,
        nth: rng.int(1, op === 'write' || op === 'datasync' ? 30 : 4),
        code: rng.pick(['EIO', 'ENOSPC'] as const),
        torn: rng.chance(0.5),
        loseDirty: rng.chance(0.5),
      })
    }
    let unexpected: unknown
    const stopped = () => fs.isDead || unexpected !== undefined
    const expected = (error: unknown) =>
      (fs.isDead && (error instanceof TablesError || isSimCrash(error))) ||
      (fs.fired.length > 0 &&
        (isInjected(error) || (error instanceof TablesError && error.code === 'TABLES_LOG_FAILED')))
    const writer = async (wrng: Rng, steps: number) => {
      for (let step = 0; step < steps && !stopped(); step++) {
        try {
          const r = wrng.next()
          if (r < 0.75) {
            const before = db.seq
            const working = cloneState(model.state)
            const ops = wrng.int(1, 5)
            const abort = wrng.chance(0.1) ? wrng.int(0, ops - 1) : -1
            let promise: Promise<unknown>
            try {
              db.transactionSync(() => {
                for (let i = 0; i < ops; i++) {
                  if (i === abort) throw ABORT
                  mutate(db, working, wrng)
                }
              })
              promise = db.sync()
            } catch (error) {
              if (error !== ABORT) throw error
              if (db.seq !== before || canonicalDb(db) !== canonicalState(model.state)) {
                throw new TortureFailure('an aborted transaction changed the db')
              }
              continue
            }
            const seq = db.seq
            if (seq !== before) {
              if (seq !== model.last + 1)
                throw new TortureFailure(`a commit got seq ${seq}, expected ${model.last + 1}`)
              model.state = working
              model.last = seq
              model.states.set(seq, canonicalState(working))
              stats.appends++
            }
            if (canonicalDb(db) !== canonicalState(model.state))
              throw new TortureFailure(`the live db differs from the model at seq ${seq}`)
            const acked = promise.then(() => model.ack(seq))
            if (wrng.chance(0.5)) {
              await acked
              stats.syncs++
            } else acked.catch(() => undefined)
          } else if (r < 0.85) {
            const at = db.seq
            await db.sync()
            model.ack(at)
            stats.syncs++
          } else if (r < 0.9) {
            const info = await db.compact()
            model.ack(info.seq)
            stats.snapshots++
          } else {
            await new Promise<void>((resolve) => setImmediate(resolve))
          }
        } catch (error) {
          if (error instanceof TortureFailure || !expected(error)) {
            unexpected ??= error
            return
          }
          if (error instanceof TablesError && error.code === 'TABLES_LOG_FAILED') return
        }
      }
    }
    await Promise.all(Array.from({ length: rng.int(1, 3) }, () => writer(rng.fork(), rng.int(5, 40))))
    note(`workload ${ending}: seq ${db.seq}, acked ${model.acked}`)
    if (unexpected !== undefined) throw unexpected
    if (background.length > 0 && !fs.isDead && fs.fired.length === 0) throw background[0]
    if (fs.isDead) {
      await reboot(db, 'crash', true)
      continue
    }
    const fired = fs.fired[0]
    fs.disarm()
    if (fired) {
      stats.faults++
      stats.faultsByOp[fired.spec.op]++
      const mustFail = mustFailStop(fired.call.op as SimOp, fired.call.path, fired.call.mode)
      // Let a failed call finish unwinding through the log before judging.
      for (let i = 0; i < 200 && mustFail && !(await failedStop(db)); i++) await new Promise((r) => setImmediate(r))
      const stoppedNow = await failedStop(db)
      note(
        `fault ${fired.spec.code} on ${fired.call.op} ${fired.call.path.split('/').pop()}: db ${stoppedNow ? 'failed-stop' : 'still writable'}`,
      )
      if (stoppedNow) stats.failStops++
      else if (mustFail)
        throw new TortureFailure(`${fired.spec.code} on ${fired.call.op} did not leave the db failed-stop`)
      await reboot(db, rng.chance(0.5) ? 'restart' : 'crash', false)
      continue
    }
    if (ending === 'close') {
      await db.close()
      model.ack(model.last)
      stats.cleanCloses++
      continue
    }
    await reboot(db, 'crash', false)
  }
  return stats
}

/** True if the db is failed-stop: `sync()` rejects with TABLES_LOG_FAILED, and then a write must be refused too. */
async function failedStop(db: TortureDb): Promise<boolean> {
  const error = await db.sync().then(
    () => undefined,
    (e: unknown) => e,
  )
  if (error === undefined) return false
  if (!(error instanceof TablesError && error.code === 'TABLES_LOG_FAILED')) throw error
  try {
    db.transactionSync(() => db.events.push(-1))
  } catch (e) {
    if (e instanceof TablesError && e.code === 'TABLES_LOG_FAILED') return true
    throw e
  }
  throw new TortureFailure('a write was accepted after the log failed')
}

/** The model state back from its canonical text. */
function restore(text: string): State {
  const parsed = JSON.parse(text) as {
    kv: [string, number, string][]
    events: number[]
    tags: [string, string[]][]
    meta: { v: number } | null
  }
  return {
    kv: new Map(parsed.kv.map(([k, n, s]) => [k, { n, s }])),
    events: parsed.events,
    tags: new Map(parsed.tags.map(([k, m]) => [k, new Set(m)])),
    meta: parsed.meta ?? undefined,
  }
}
