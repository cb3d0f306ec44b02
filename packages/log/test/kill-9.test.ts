// Durability under kill -9: a child process appends with 'fsync' durability from several concurrent writers and
// reports each acknowledged seq; the parent SIGKILLs it at random moments (seeded; the seed is printed on failure)
// and checks that nothing acknowledged was lost, the history is contiguous and its chain verifies, and the dead
// writer's lock is taken over — by the parent's writable reopen, or in some rounds by the next child itself.
// A second test does the same while the child also snapshots and compacts, so kills land inside those too; a third
// runs the child in 'os' mode, whose acknowledged commits only reached the page cache (written inline, on the event
// loop) — which a killed process does not lose either.
// Rounds: HOMEDB_KILL9_ROUNDS (default 12, the snapshot test half that). Seed: HOMEDB_TORTURE_SEED.
import { type Rng, tempDir, withSeed } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type Durability, openLog, verifyLog } from '../src/index.js'
import { runFixture } from './support/run-fixture.js'
import { payloadProblem, stateAt } from './support/seq-payload.js'

const ROUNDS = Number(process.env.HOMEDB_KILL9_ROUNDS ?? 12)
const SNAPSHOT_ROUNDS = Math.max(1, Math.ceil(ROUNDS / 2))
/** A round takes about a second (child start, up to 400 ms of writing, a full check): generous, but bounded. */
const timeoutFor = (rounds: number) => 30_000 + rounds * 3_000
const SEGMENT_BYTES = 8 * 1024
const WRITERS = 8

interface Round {
  pid: number
  /** Head the child saw when its open finished, if it got that far. */
  readySeq: number | undefined
  acked: number[]
  /** Seqs of snapshots whose snapshot() resolved. */
  snapshots: number[]
  killedWhen: string
  /** Killed 50–400 ms after its open finished (not during it). */
  killedAfterReady: boolean
}

/**
 * Starts a writer and kills it with SIGKILL: usually 50–400 ms after its log is open, sometimes 0–15 ms into
 * its open (lock takeover, recovery, segment creation). Resolves once the child is dead and reaped, so its
 * pid no longer names a live process.
 */
async function killRound(dir: string, rng: Rng, snapshotEvery: number, durability: Durability): Promise<Round> {
  const duringOpen = rng.next() < 0.2
  const delay = duringOpen ? rng.int(0, 15) : rng.int(50, 400)
  const acked: number[] = []
  const snapshots: number[] = []
  let readySeq: number | undefined
  let timer: NodeJS.Timeout | undefined
  const kill = () => {
    timer ??= setTimeout(() => proc.child.kill('SIGKILL'), delay)
  }
  const args = [dir, String(WRITERS), String(SEGMENT_BYTES), String(snapshotEvery), durability]
  const proc = runFixture('kill9-writer.ts', args, (line) => {
    if (line === 'opening') {
      if (duringOpen) kill()
    } else if (line.startsWith('ready ')) {
      readySeq = Number(line.slice(6))
      if (!duringOpen) kill()
    } else if (line.startsWith('snap ')) snapshots.push(Number(line.slice(5)))
    else acked.push(Number(line))
  })
  const { code, signal, stderr } = await proc.closed
  clearTimeout(timer)
  if (signal !== 'SIGKILL') {
    throw new Error(`the writer exited on its own (code ${code}, signal ${signal}) instead of being killed:\n${stderr}`)
  }
  return {
    pid: proc.pid,
    readySeq,
    acked,
    snapshots,
    killedWhen: `${delay} ms after ${duringOpen ? 'opening' : 'ready'}`,
    killedAfterReady: !duringOpen,
  }
}

/**
 * Opens the log (writable: taking over the stale lock and cutting a torn tail; or read-only: changing nothing)
 * and checks what it holds: commits after `from` (or after the start, if later) contiguous to the head with the
 * payload of their seq (read() verifies each frame's CRC and chain link, so reading without error proves the
 * chain), and, if compaction released the early segments, a complete snapshot that covers them. Returns the head
 * and the snapshot's seq.
 */
async function checkLog(dir: string, writable: boolean, from: number): Promise<{ head: number; snapshot: number }> {
  const log = await openLog(dir, { durability: 'fsync', segmentBytes: SEGMENT_BYTES, readOnly: !writable })
  try {
    const snapshot = await log.latestSnapshot()
    if (snapshot) {
      const state = Buffer.from(await snapshot.payload())
      expect(state.equals(stateAt(snapshot.seq)), `snapshot ${snapshot.seq} holds its state`).toBe(true)
    }
    if (log.start.seq > 0) {
      expect(snapshot?.seq ?? -1, 'a snapshot covers the released segments').toBeGreaterThanOrEqual(log.start.seq)
    }
    const first = Math.max(from, log.start.seq)
    let expected = first + 1
    for await (const commit of log.read({ from: first })) {
      if (commit.seq !== expected) expect.fail(`seqs are not contiguous: ${commit.seq} after ${expected - 1}`)
      const problem = payloadProblem(commit.seq, commit.payload)
      if (problem !== undefined) expect.fail(problem)
      expected++
    }
    expect(expected - 1, 'read() reaches the head').toBe(log.head.seq)
    return { head: log.head.seq, snapshot: snapshot?.seq ?? 0 }
  } finally {
    await log.close()
  }
}

/** Runs `rounds` kill rounds on a fresh directory; see the file header. */
async function torture(
  name: string,
  rounds: number,
  snapshotEvery: number,
  durability: Durability = 'fsync',
): Promise<void> {
  const dir = tempDir(name)
  let round = 0
  let head = 0
  let snapshot = 0
  let lastKill = ''
  let totalAcked = 0
  let totalSnapshots = 0
  let childTakeovers = 0
  await withSeed(
    name,
    async (rng) => {
      // Set when the last round was checked read-only: the next child must take over the lock and recover.
      let staleForChild = false
      for (round = 1; round <= rounds; round++) {
        const r = await killRound(dir, rng, snapshotEvery, durability)
        lastKill = r.killedWhen
        // The child continued from the head the parent checked (its own recovery found the same prefix).
        if (r.readySeq !== undefined) {
          expect(r.readySeq, 'the child started from the checked head').toBe(head)
          if (staleForChild) childTakeovers++
        }
        // Killed at least 50 ms after its open: a working writer has acknowledged something by then.
        if (r.killedAfterReady) expect(r.acked.length, 'the writer made progress').toBeGreaterThan(0)
        for (const seq of r.acked) {
          expect(Number.isSafeInteger(seq) && seq > head, `acknowledged seq ${seq} follows head ${head}`).toBe(true)
        }
        const maxAcked = Math.max(head, ...r.acked)
        const maxSnapshot = Math.max(snapshot, ...r.snapshots)
        totalAcked += r.acked.length
        totalSnapshots += r.snapshots.length

        // Before anyone reopens: the dead child's lock is still there, and the files hold at most a torn tail.
        const before = await verifyLog(dir)
        expect(before.damage.filter((d) => d.kind === 'corruption')).toEqual([])
        expect(before.ok).toBe(true)
        if (r.readySeq !== undefined) expect(before.lock?.pid, 'the killed child still holds the lock').toBe(r.pid)
        expect(before.head.seq).toBeGreaterThanOrEqual(maxAcked)

        // Mostly the parent reopens for writing (taking over the stale lock, cutting a torn tail); sometimes it
        // only looks read-only and leaves both to the next child.
        const writable = round === rounds || rng.next() < 0.7
        if (before.segments.length === 0) {
          // Killed inside the very first open, before the log existed: nothing to check (or read-only open).
          expect(maxAcked).toBe(0)
          if (!writable) {
            staleForChild = true
            continue
          }
        }
        // Every commit's payload is read back every few rounds and at the end; in between only what is new
        // since the last check (verifyLog above already re-checks every frame's CRC, seq and chain each round).
        const full = round % 4 === 0 || round === rounds
        const checked = await checkLog(dir, writable, full ? 0 : head)
        expect(checked.head, 'every acknowledged commit survived').toBeGreaterThanOrEqual(maxAcked)
        expect(checked.snapshot, 'every acknowledged snapshot survived').toBeGreaterThanOrEqual(maxSnapshot)
        head = checked.head
        snapshot = checked.snapshot
        staleForChild = !writable
        const after = await verifyLog(dir)
        expect(after.head.seq).toBe(head)
        if (writable) {
          expect(after.damage, 'the writable reopen cut the torn tail').toEqual([])
          expect(after.lock, 'the lock was taken over and released').toBeUndefined()
        }
      }
      // The last reopened log still takes appends.
      const log = await openLog(dir, { durability: 'fsync', segmentBytes: SEGMENT_BYTES })
      expect(log.append(Buffer.from('after the last kill'))).toBe(head + 1)
      await log.sync()
      await log.close()
      expect((await verifyLog(dir)).head.seq).toBe(head + 1)
      // Guard against a vacuous pass: the children committed across the rounds and rolled segments.
      expect(totalAcked).toBeGreaterThan(rounds * 5)
      expect((await verifyLog(dir)).segments.length + (snapshot > 0 ? 1 : 0)).toBeGreaterThan(1)
      if (snapshotEvery > 0) expect(totalSnapshots).toBeGreaterThan(0)
    },
    () => `round ${round}/${rounds}, killed ${lastKill}, head ${head}, child takeovers ${childTakeovers}`,
  )
}

describe('kill -9 of a process appending with fsync durability', () => {
  it(
    `loses no acknowledged commit over ${ROUNDS} rounds, takes over the stale lock and keeps the chain contiguous`,
    async () => {
      await torture('kill9', ROUNDS, 0)
    },
    timeoutFor(ROUNDS),
  )

  it(
    `loses no acknowledged commit or snapshot when kills land inside snapshots and compaction`,
    async () => {
      await torture('kill9-snap', SNAPSHOT_ROUNDS, 200)
    },
    timeoutFor(SNAPSHOT_ROUNDS),
  )
})

describe("kill -9 of a process appending with 'os' durability (batches written inline)", () => {
  it(
    `loses no acknowledged commit over ${SNAPSHOT_ROUNDS} rounds: what reached the page cache outlives the process`,
    async () => {
      await torture('kill9-os', SNAPSHOT_ROUNDS, 0, 'os')
    },
    timeoutFor(SNAPSHOT_ROUNDS),
  )
})
