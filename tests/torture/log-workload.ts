// Seeded random log workloads for torture runs: several concurrent async writers append payloads of random sizes
// (now and then bigger than a segment), await `sync()`, take snapshots, place and release retention holds, read
// back, ship frames through `appendEncoded` and read the latest snapshot, while the model records what was
// appended and what was acknowledged. Every read is checked against the model as it happens.
import { type Log, LogError, openLog } from '@homedb/log'
import { isInjected, isSimCrash, type Rng, type SimFs } from '@homedb/testkit'
import { describePayload, type LogModel, makePayload, snapshotBytes, TortureFailure } from './log-model.js'

/** Shared state of one boot's workload. */
export interface WorkloadContext {
  readonly log: Log
  readonly fs: SimFs
  readonly model: LogModel
  readonly epoch: number
  readonly segmentBytes: number
  /** Retention holds placed in this boot. */
  readonly holds: Map<string, number>
  /** One snapshot at a time (concurrent `snapshot()` calls are not part of the contract exercised here). */
  snapshotBusy: boolean
  /** Settles when the snapshot in flight (if any) has finished, successfully or not. */
  snapshotDone: Promise<void> | undefined
  /** Incremented when a snapshot starts: a read of an older snapshot may then find it deleted. */
  snapshotGeneration: number
  /** Counters the run reports. */
  counts: { appends: number; syncs: number; snapshots: number; reads: number; encoded: number }
  /** Appends a line to the run's trace (printed on failure). */
  note(line: string): void
  /** The first unexpected error a writer met; the run fails with it. */
  unexpected: unknown
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

/** True once the writers must stop: the power is off, the log failed or something unexpected happened. */
function stopped(ctx: WorkloadContext): boolean {
  return ctx.fs.isDead || ctx.log.failure !== undefined || ctx.unexpected !== undefined
}

/**
 * Whether a writer may meet `error`: after a crash any homedb error or the simulator's own "power is off" error;
 * after a fault the injected error itself or the log's LOG_FAILED. Anything else is a bug.
 */
function expected(ctx: WorkloadContext, error: unknown): boolean {
  if (ctx.fs.isDead && (error instanceof LogError || isSimCrash(error))) return true
  if (ctx.fs.fired.length > 0) {
    if (isInjected(error)) return true
    if (error instanceof LogError && error.code === 'LOG_FAILED') return true
  }
  return false
}

function fail(message: string): never {
  throw new TortureFailure(message)
}

/** Appends one payload and records it; returns its seq. */
function appendOne(ctx: WorkloadContext, writer: number, length: number): number {
  const seq = ctx.log.head.seq + 1
  const payload = makePayload(seq, ctx.epoch, writer, length)
  const got = ctx.log.append(payload)
  if (got !== seq) fail(`append returned seq ${got}, the head said the next is ${seq}`)
  ctx.model.recordAppend(seq, payload, ctx.log.head.chain)
  ctx.counts.appends++
  return seq
}

function payloadLength(ctx: WorkloadContext, rng: Rng): number {
  const r = rng.next()
  if (r < 0.85) return rng.int(0, 200)
  if (r < 0.97) return rng.int(200, 1500)
  return rng.int(ctx.segmentBytes, 2 * ctx.segmentBytes)
}

async function syncAndAck(ctx: WorkloadContext): Promise<void> {
  const target = ctx.log.head.seq
  await ctx.log.sync()
  ctx.model.ack(target)
  ctx.counts.syncs++
}

async function appendBurst(ctx: WorkloadContext, writer: number, rng: Rng): Promise<void> {
  const n = rng.int(1, 6)
  for (let i = 0; i < n && !stopped(ctx); i++) {
    appendOne(ctx, writer, payloadLength(ctx, rng))
    if (rng.chance(0.2)) await turn()
  }
  if (rng.chance(0.6) && !stopped(ctx)) await syncAndAck(ctx)
}

function snapshotData(data: Uint8Array, rng: Rng): Uint8Array | Uint8Array[] | AsyncIterable<Uint8Array> {
  const form = rng.int(0, 2)
  if (form === 0) return data
  const parts: Uint8Array[] = []
  for (let at = 0; at < data.byteLength; ) {
    const size = rng.int(1, 1200)
    parts.push(data.subarray(at, at + size))
    at += size
  }
  if (form === 1) return parts
  return (async function* () {
    for (const part of parts) {
      await turn()
      yield part
    }
  })()
}

async function takeSnapshot(ctx: WorkloadContext, rng: Rng): Promise<void> {
  if (ctx.snapshotBusy) return
  const head = ctx.log.head.seq
  const floor = Math.max(ctx.model.snapshotFloor, ctx.log.start.seq)
  if (floor > head) return
  const atSeq = rng.chance(0.6) ? head : rng.int(floor, head)
  const chain = ctx.model.chains.get(atSeq)
  if (chain === undefined) fail(`no chain recorded for seq ${atSeq}`)
  const data = snapshotBytes(atSeq, chain)
  ctx.snapshotBusy = true
  ctx.snapshotGeneration++
  let done = () => {}
  ctx.snapshotDone = new Promise<void>((resolve) => {
    done = resolve
  })
  ctx.model.snapshotFloor = atSeq
  ctx.note(`snapshot at ${atSeq} (head ${head}, start ${ctx.log.start.seq})`)
  try {
    const info = await ctx.log.snapshot(snapshotData(data, rng), atSeq)
    if (info.seq !== atSeq || info.chain !== chain || info.bytes !== data.byteLength) {
      fail(`snapshot() resolved with ${JSON.stringify(info)}, asked for seq ${atSeq} chain ${chain}`)
    }
    if (!ctx.model.snapshotAcked || atSeq >= ctx.model.snapshotAcked.seq)
      ctx.model.snapshotAcked = { seq: atSeq, chain }
    ctx.model.ack(atSeq) // a snapshot is never ahead of the durable log: everything up to it is acknowledged
    ctx.counts.snapshots++
    if (ctx.log.start.seq > atSeq) fail(`after a snapshot at ${atSeq} the log starts at ${ctx.log.start.seq}`)
    checkHolds(ctx)
  } finally {
    ctx.snapshotBusy = false
    ctx.snapshotDone = undefined
    done()
  }
}

function checkHolds(ctx: WorkloadContext): void {
  for (const [name, seq] of ctx.holds) {
    if (ctx.log.start.seq > seq) fail(`hold ${name} at seq ${seq} was not kept: the log starts at ${ctx.log.start.seq}`)
  }
}

function holdOrRelease(ctx: WorkloadContext, rng: Rng): void {
  if (ctx.snapshotBusy) return
  const name = rng.pick(['a', 'b', 'c'])
  if (ctx.holds.has(name) && rng.chance(0.5)) {
    ctx.log.release(name)
    ctx.holds.delete(name)
    return
  }
  const seq = rng.int(ctx.log.start.seq, ctx.log.head.seq)
  ctx.log.hold(name, seq)
  ctx.holds.set(name, seq)
}

async function readBack(ctx: WorkloadContext, rng: Rng): Promise<void> {
  const from = rng.int(ctx.log.start.seq, ctx.log.head.seq)
  let expect = from + 1
  try {
    for await (const commit of ctx.log.read({ from })) {
      if (commit.seq !== expect) fail(`read from ${from} returned seq ${commit.seq}, expected ${expect}`)
      const want = ctx.model.payloads.get(commit.seq)
      if (!want || !equalBytes(want, commit.payload)) {
        fail(
          `read seq ${commit.seq}: ${describePayload(commit.payload)}, wanted ${want ? describePayload(want) : 'nothing'}`,
        )
      }
      if (commit.chain !== ctx.model.chains.get(commit.seq)) fail(`read seq ${commit.seq} has the wrong chain`)
      expect++
    }
  } catch (error) {
    // Compaction may release what this read still wanted, but only below the log's start once it is done.
    if (error instanceof LogError && error.code === 'LOG_NEED_SNAPSHOT') {
      await ctx.snapshotDone
      if (expect - 1 < ctx.log.start.seq) return
      // A compaction that failed half way (fail-stop) deleted segments without moving the start: typed, and honest.
      if (ctx.log.failure) return
    }
    throw error
  }
  ctx.counts.reads++
}

async function readLatestSnapshot(ctx: WorkloadContext): Promise<void> {
  // What must hold is judged by what was acknowledged before the read began.
  const acked = ctx.model.snapshotAcked
  const generation = ctx.snapshotGeneration
  const busy = ctx.snapshotBusy
  try {
    const snap = await ctx.log.latestSnapshot()
    if (!snap) {
      if (acked) fail(`latestSnapshot() is empty after the snapshot at ${acked.seq}`)
      return
    }
    if (acked && snap.seq < acked.seq) {
      fail(`latestSnapshot() returned seq ${snap.seq}, older than the acknowledged ${acked.seq}`)
    }
    const data = await snap.payload()
    if (snap.chain !== ctx.model.chains.get(snap.seq) || !equalBytes(data, snapshotBytes(snap.seq, snap.chain))) {
      fail(`latestSnapshot() at seq ${snap.seq} does not match the history`)
    }
  } catch (error) {
    // A newer snapshot may delete this one while it is read: a typed error, only if one ran meanwhile.
    const newer = busy || generation !== ctx.snapshotGeneration
    if (error instanceof LogError && error.code === 'LOG_SNAPSHOT' && newer) return
    throw error
  }
}

async function shipEncoded(ctx: WorkloadContext, writer: number, rng: Rng): Promise<void> {
  const head = ctx.log.head
  const source = await openLog(undefined, { durability: 'memory', create: { logId: ctx.log.logId, start: head } })
  const payloads: Uint8Array[] = []
  for (let i = rng.int(1, 3); i > 0; i--) {
    const seq = head.seq + payloads.length + 1
    const payload = makePayload(seq, ctx.epoch, 100 + writer, payloadLength(ctx, rng))
    source.append(payload)
    payloads.push(payload)
  }
  const frames: { seq: number; chain: string; frame: Uint8Array }[] = []
  for await (const c of source.readEncoded({ from: head.seq })) frames.push(c)
  await source.close()
  if (stopped(ctx) || ctx.log.head.seq !== head.seq) return // another writer appended meanwhile
  const got = ctx.log.appendEncoded(frames.map((f) => f.frame))
  if (got !== head.seq + frames.length) fail(`appendEncoded returned ${got}, expected ${head.seq + frames.length}`)
  for (const [i, f] of frames.entries()) ctx.model.recordAppend(f.seq, payloads[i]!, f.chain)
  if (ctx.log.head.chain !== frames[frames.length - 1]!.chain) fail('appendEncoded left the head on another chain')
  ctx.counts.encoded += frames.length
}

async function writer(ctx: WorkloadContext, id: number, rng: Rng, steps: number): Promise<void> {
  for (let step = 0; step < steps && !stopped(ctx); step++) {
    try {
      const r = rng.next()
      if (r < 0.5) await appendBurst(ctx, id, rng)
      else if (r < 0.7) await syncAndAck(ctx)
      else if (r < 0.77) await takeSnapshot(ctx, rng)
      else if (r < 0.82) holdOrRelease(ctx, rng)
      else if (r < 0.89) await readBack(ctx, rng)
      else if (r < 0.92) await readLatestSnapshot(ctx)
      else if (r < 0.95) await shipEncoded(ctx, id, rng)
      else await turn()
      if (!stopped(ctx) && ctx.log.head.seq < ctx.model.acked) {
        fail(`the head ${ctx.log.head.seq} is behind the acknowledged seq ${ctx.model.acked}`)
      }
    } catch (error) {
      if (error instanceof TortureFailure || !expected(ctx, error)) {
        ctx.unexpected ??= error
        return
      }
    }
  }
}

/** Runs `writers` concurrent writers of `steps` steps each until they finish or the world stops. */
export async function runWorkload(ctx: WorkloadContext, rng: Rng, writers: number, steps: number): Promise<void> {
  await Promise.all(Array.from({ length: writers }, (_, id) => writer(ctx, id, rng.fork(), steps)))
}
