// A writer in another process and a read-only follower in this one: the writer (test/fixtures/follow-writer.ts)
// runs seeded random bursts of transactions on every table kind with 2 KiB segments, compacting in most bursts;
// after each burst it prints its seq and a sha256 of its full state (canonical JSON, iteration order included).
// The follower must reach that seq (waited for on its commit events) and hash to the same digest, across every
// compaction, with no error. A reopen of the directory at the end must agree too.
import { verifyLog } from '@homedb/log'
import { tempDir, withSeed } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { openDb } from '../src/index.js'
import { coreOf } from '../src/internal/db-core.js'
import { startLineChild } from './support/child-process.js'
import { recordEvents, waitForSeq } from './support/follow.js'
import { Mixed, stateDigest } from './support/workload.js'

const BURSTS = 8

describe('a follower process beside a writer process', () => {
  it('converges to the writer’s state after every burst, across several compactions', { timeout: 20_000 }, async () => {
    let progress = 'starting'
    await withSeed(
      'follower process',
      async (rng) => {
        const seed = rng.seed
        const dir = tempDir('tables')
        const writer = startLineChild('follow-writer', [dir, String(seed), String(BURSTS)])
        try {
          const ready = (await writer.nextLine()).split(' ')
          expect(ready[0]).toBe('ready')
          const errors: unknown[] = []
          const follower = await openDb(Mixed, {
            dir,
            readOnly: true,
            followIntervalMs: 5,
            onError: (e) => errors.push(e),
          })
          const events = recordEvents(follower)
          let compactions = 0
          let lastDigest = ''
          for (let n = 1; n <= BURSTS; n++) {
            progress = `burst ${n}`
            writer.send('next')
            const line = await writer.nextLine()
            const [word, burst, seqText, digest, compactionsText] = line.split(' ')
            expect(`${word} ${burst}`, line).toBe(`burst ${n}`)
            const seq = Number(seqText)
            compactions = Number(compactionsText)
            await waitForSeq(follower, seq).catch(async (error: Error) => {
              const log = coreOf(follower).log
              const report = await verifyLog(dir)
              error.message +=
                ` (the follower's log: head ${log.head.seq}, start ${log.start.seq}; in the directory: segments ` +
                `${report.segments.map((s) => `${s.file}@${s.firstSeq}-${s.lastSeq}`).join(', ')}, snapshots ` +
                `${report.snapshots.map((s) => s.seq).join(', ')})`
              throw error
            })
            expect(follower.seq).toBe(seq)
            expect(errors).toEqual([])
            const mine = stateDigest(follower)
            if (mine !== digest) {
              // Tell a follower that went wrong from a writer whose memory differs from its own log.
              const fresh = await openDb(Mixed, { dir, readOnly: true })
              const reopened = stateDigest(fresh)
              await fresh.close()
              expect.fail(
                `after burst ${n} (seq ${seq}) the follower's state digest ${mine} differs from the writer's ${digest}; ` +
                  `a fresh read-only open of the directory gives ${reopened}`,
              )
            }
            lastDigest = digest!
          }
          progress = 'closing'
          writer.send('next')
          expect(await writer.nextLine()).toBe('done')
          expect(await writer.exited).toBe(0)
          expect(compactions).toBeGreaterThanOrEqual(4)
          // One event per commit, in seq order, except where a reload skipped ahead with a reset.
          let previous = Number(ready[1])
          for (const event of events) {
            if (event.reset === true) expect(event.seq).toBeGreaterThan(previous)
            else expect(event.seq, 'the events skip or repeat a commit').toBe(previous + 1)
            previous = event.seq
          }
          if (process.env.HOMEDB_TEST_VERBOSE === '1') {
            console.info(`seed ${seed}: ${compactions} compactions, ${events.filter((e) => e.reset).length} resets`)
          }
          await follower.close()
          const reopened = await openDb(Mixed, { dir })
          expect(stateDigest(reopened)).toBe(lastDigest)
          await reopened.close()
        } finally {
          writer.kill()
          await writer.exited
        }
      },
      () => progress,
    )
  })
})
