// The torture checker itself (log-model.ts): a boot's check must notice every flipped bit that a later read would
// meet, even one no read of the check reaches, or the workload after it fails on damage the check called harmless;
// and it must recognise the known limit (acknowledged commits cut with a flipped bit) however the cut came about.
import { LogError, openLog } from '@homedb/log'
import { type BitFlip, SimFs, seededRng } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { checkRecovered, LogModel, makePayload } from './log-model.js'
import { runLogSeed } from './power-loss.js'

const DIR = '/db/log'

describe('the recovery check', () => {
  it('ends the run as read-corrupt when a bit flipped in the seal right after the head (power-loss seed 2022528)', async () => {
    // A log whose last commit closes a sealed segment and whose active segment is still empty.
    const fs = new SimFs(seededRng(1), { maxPause: 0 })
    fs.putDir('/db')
    const model = new LogModel()
    const log = await openLog(DIR, { fileLayer: fs, segmentBytes: 1024 })
    const segments = () => fs.list(DIR).filter((n) => n.startsWith('segment-'))
    while (segments().length < 2) {
      const seq = log.head.seq + 1
      const payload = makePayload(seq, 1, 0, 200)
      log.append(payload)
      model.recordAppend(seq, payload, log.head.chain)
      await log.sync()
    }
    model.ack(log.head.seq)
    await log.close()
    // The bit: inside the seal, the last frame of the sealed segment (the check's reads stop at the head before it).
    const sealed = `${DIR}/${segments()[0]}`
    const bytes = fs.readFile(sealed)!
    const flip: BitFlip = { path: sealed, offset: bytes.byteLength - 5, bit: 3 }
    bytes[flip.offset]! ^= 1 << flip.bit
    fs.putFile(sealed, bytes)

    const again = await openLog(DIR, { fileLayer: fs, segmentBytes: 1024 })
    try {
      expect(await checkRecovered(again, fs, DIR, model, [flip])).toBe('read-corrupt')
      // What the workload would have met next: a read across the seal, once the head moved past it.
      again.append(makePayload(again.head.seq + 1, 2, 0, 50))
      await again.sync()
      const error = await (async () => {
        for await (const _ of again.read({ from: 0 })) void _
      })().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LogError)
      expect((error as LogError).code).toBe('LOG_CORRUPT')
    } finally {
      await again.close()
    }
  })

  it('counts as the known limit a cut made by an open that then failed, once the next open preallocated the segment again (faults seed 3571724)', async () => {
    // The run: bits flip in the last synced batch at a power cut; the next open cuts the segment before them and
    // fails (EIO); after another power cut the last open gives the segment its full length again, zeros where the
    // flipped bits were, and the acknowledged seq 4 is gone with the cut. Before the checker knew about the zeros
    // it called this an unexplained loss.
    const stats = await runLogSeed(3571724, { faults: true })
    expect([stats.flipCrashes, stats.knownLimit, stats.faults]).toEqual([1, 1, 1])
  })
})
