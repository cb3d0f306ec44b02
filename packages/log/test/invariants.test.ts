// The checked invariants of the log's state (src/internal/positions.ts, segment-set.ts): every transition keeps
// start ≤ durable ≤ written ≤ head and ordered segments, and one that would break them throws LogInternalError
// carrying the values instead of leaving the log in a state nobody can reason about.
import { describe, expect, it } from 'vitest'
import { LogError, LogInternalError } from '../src/index.js'
import { invariant } from '../src/internal/invariant.js'
import { LogPositions } from '../src/internal/positions.js'
import { SegmentSet, segmentRef } from '../src/internal/segment-set.js'

const at = (seq: number) => ({ seq, chain: BigInt(seq) })

function internalError(fn: () => void): LogInternalError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LogInternalError)
    expect(error).toBeInstanceOf(LogError)
    return error as LogInternalError
  }
  throw new Error('expected a LogInternalError')
}

describe('invariant()', () => {
  it('throws LOG_INTERNAL naming the invariant and carrying the values, and computes nothing when it holds', () => {
    let computed = 0
    invariant(true, 'fine', () => ({ computed: ++computed }))
    expect(computed).toBe(0)
    const error = internalError(() => invariant(false, 'a≤b', () => ({ a: 2, b: 1n })))
    expect(error.code).toBe('LOG_INTERNAL')
    expect(error.context).toEqual({ invariant: 'a≤b', a: 2, b: 1n })
    expect(error.message).toBe('invariant a≤b failed: {"a":2,"b":"1"}')
  })
})

describe('LogPositions', () => {
  it('moves head, written and durable in order through append, write and sync', () => {
    const p = new LogPositions(at(0), at(0))
    p.appended(1, 1n)
    p.appended(2, 2n)
    expect([p.durable.seq, p.written.seq, p.headSeq]).toEqual([0, 0, 2])
    p.wrote(at(2))
    p.synced(at(2))
    expect([p.start.seq, p.durable.seq, p.written.seq, p.headSeq]).toEqual([0, 2, 2, 2])
    expect(p.head).toEqual({ seq: 2, chain: '0000000000000002' })
    expect(p.head).toBe(p.head)
  })

  it('refuses to write past the head, sync past what was written, or release past what is durable', () => {
    const p = new LogPositions(at(0), at(5))
    p.appended(6, 6n)
    expect(internalError(() => p.wrote(at(7))).context).toMatchObject({
      invariant: 'start≤durable≤written≤head',
      transition: 'write',
      written: 7,
      head: 6,
    })
    const q = new LogPositions(at(0), at(5))
    q.appended(6, 6n)
    expect(internalError(() => q.synced(at(6))).context).toMatchObject({ transition: 'sync', durable: 6, written: 5 })
    const r = new LogPositions(at(0), at(5))
    expect(internalError(() => r.released(at(6))).context).toMatchObject({ transition: 'release', start: 6 })
  })

  it('refuses to move any position backwards', () => {
    const p = new LogPositions(at(3), at(5))
    expect(internalError(() => p.appended(5, 5n)).context.invariant).toBe('append-advances')
    expect(internalError(() => p.wrote(at(4))).context.invariant).toBe('written-advances')
    expect(internalError(() => p.synced(at(4))).context.invariant).toBe('durable-advances')
    expect(internalError(() => p.released(at(2))).context.invariant).toBe('start-advances')
    expect(internalError(() => p.followed(at(4))).context.invariant).toBe('follow-advances')
    expect(internalError(() => p.restarted(at(4))).context.invariant).toBe('restart-advances')
  })

  it('moves everything at once when a follower reads on or jumps to the oldest segment left', () => {
    const p = new LogPositions(at(0), at(5))
    p.followed(at(9))
    expect([p.start.seq, p.durable.seq, p.written.seq, p.headSeq]).toEqual([0, 9, 9, 9])
    p.restarted(at(20))
    expect([p.start.seq, p.durable.seq, p.written.seq, p.headSeq]).toEqual([20, 20, 20, 20])
  })
})

describe('SegmentSet', () => {
  it('keeps segments ordered by number and base seq, and the active one last', () => {
    const set = new SegmentSet([segmentRef(1, 0, 0n), segmentRef(2, 10, 10n)])
    set.rolled(segmentRef(3, 20, 20n))
    expect(set.active.number).toBe(3)
    expect(set.containing(15).number).toBe(2)
    expect(set.after(1)?.number).toBe(2)
    expect(internalError(() => set.rolled(segmentRef(3, 30, 30n))).context.invariant).toBe('segments-ordered')
    expect(internalError(() => set.rolled(segmentRef(4, 19, 19n))).context.invariant).toBe('segments-ordered')
  })

  it('never releases the active segment, and jumps only forward', () => {
    const set = new SegmentSet([segmentRef(1, 0, 0n), segmentRef(2, 10, 10n)])
    expect(set.release(() => false).map((s) => s.number)).toEqual([1])
    expect(set.all.map((s) => s.number)).toEqual([2])
    expect(internalError(() => set.jumped(segmentRef(2, 10, 10n))).context.invariant).toBe('jump-forward')
    expect(internalError(() => new SegmentSet([])).context.invariant).toBe('segments-non-empty')
  })
})
