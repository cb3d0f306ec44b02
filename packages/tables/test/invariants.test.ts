// The invariants the tables engine checks as it goes (src/internal/invariant.ts): a db's seq moves by one per commit
// or to a snapshot's seq, a transaction ends once, and a compaction's capture emits each key present at the capture
// exactly once, with its value at that moment. Each check is driven into failure here, by breaking the rule behind
// the engine's back, and must throw TablesInternalError (TABLES_INTERNAL) naming the invariant, with the values.
import { describe, expect, it } from 'vitest'
import { TablesError, TablesInternalError } from '../src/index.js'
import { AppliedSeq } from '../src/internal/applied-seq.js'
import { OP } from '../src/internal/opcodes.js'
import { captureLookupList, captureLookupTable } from '../src/internal/state-capture.js'
import { Transaction } from '../src/internal/transaction.js'

/** The error `fn` throws, which must be a TablesInternalError. */
function internalError(fn: () => unknown): TablesInternalError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(TablesInternalError)
    expect(error).toBeInstanceOf(TablesError)
    expect((error as TablesError).code).toBe('TABLES_INTERNAL')
    return error as TablesInternalError
  }
  throw new Error('expected a TablesInternalError, nothing was thrown')
}

describe('the applied seq', () => {
  it('moves by one per commit and to any seq when the state is replaced', () => {
    const seq = new AppliedSeq()
    seq.advance(1)
    seq.advance(2)
    seq.replaced(40)
    seq.advance(41)
    seq.replaced(0)
    expect(seq.value).toBe(0)
  })

  it('refuses a commit that is not the next one, naming both seqs', () => {
    const seq = new AppliedSeq()
    seq.advance(1)
    const error = internalError(() => seq.advance(3))
    expect(error.context).toMatchObject({ invariant: 'seq-advances-by-one', seq: 1, applied: 3 })
    expect(internalError(() => seq.advance(1)).context).toMatchObject({ seq: 1, applied: 1 })
    expect(seq.value).toBe(1)
  })

  it('refuses a replacement by something that is not a seq', () => {
    const seq = new AppliedSeq()
    expect(internalError(() => seq.replaced(-1)).context).toMatchObject({ invariant: 'seq-is-a-seq' })
    expect(internalError(() => seq.replaced(1.5)).context).toMatchObject({ invariant: 'seq-is-a-seq' })
  })
})

describe('a transaction', () => {
  it('ends once: committed or rolled back, never both or twice', () => {
    const committed = new Transaction()
    committed.committed()
    expect(internalError(() => committed.committed()).context).toMatchObject({
      invariant: 'transaction-ends-once',
      state: 'committed',
    })
    expect(internalError(() => committed.rollback()).context).toMatchObject({ to: 'rolled back' })
    const rolledBack = new Transaction()
    rolledBack.rollback()
    expect(internalError(() => rolledBack.committed()).context).toMatchObject({ state: 'rolled back' })
  })

  it('commits only with a table for every change record', () => {
    const txn = new Transaction()
    txn.changes.push({ op: 'push', index: 0, value: 1 })
    expect(internalError(() => txn.committed()).context).toMatchObject({
      invariant: 'transaction-changes-have-tables',
      changes: 1,
      tables: 0,
    })
  })
})

describe('a compaction’s capture of a Map-backed table', () => {
  it('emits each key present at the capture once, and notices a key removed without being told', () => {
    const map = new Map<string, unknown>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ])
    expect([...captureLookupTable('t', map).ops()]).toEqual([
      ['t', OP.LT_SET, 'a', 1],
      ['t', OP.LT_SET, 'b', 2],
      ['t', OP.LT_SET, 'c', 3],
    ])
    const capture = captureLookupTable('t', map)
    map.delete('b') // a removal the capture was not told of (willApply): the rule can no longer hold
    const error = internalError(() => [...capture.ops()])
    expect(error.context).toMatchObject({ invariant: 'capture-emits-each-key', keysAtCapture: 3, emitted: 2 })
  })

  it('emits only the keys present at the capture while keys are added, removed and come back', () => {
    const map = new Map<string, unknown>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ])
    const capture = captureLookupTable('t', map)
    /** Tells the capture first, then changes the map, as the db does. */
    const apply = (op: unknown[], change: () => void): void => {
      capture.willApply(op, undefined)
      change()
    }
    const ops = capture.ops()
    expect(ops.next().value).toEqual(['t', OP.LT_SET, 'a', 1])
    apply(['t', OP.LT_SET, 'n', 9], () => map.set('n', 9)) // added after the capture: at the end, never emitted
    apply(['t', OP.LT_SET, 'n', 10], () => map.set('n', 10))
    apply(['t', OP.LT_REMOVE, 'c'], () => map.delete('c')) // not reached yet: drained, its value kept
    apply(['t', OP.LT_SET, 'c', 30], () => map.set('c', 30)) // comes back at the end, after 'n'
    apply(['t', OP.LT_SET, 'b', 20], () => map.set('b', 20))
    expect([...ops]).toEqual([
      ['t', OP.LT_SET, 'b', 2],
      ['t', OP.LT_SET, 'c', 3],
    ])
    expect([...map.keys()]).toEqual(['a', 'b', 'n', 'c'])
  })

  it('keeps a key’s value as it was when a write touches it in the middle of emitting it', () => {
    const list = ['x', 'y', 'z']
    const map = new Map<string, unknown[]>([['k', list]])
    const capture = captureLookupList('t', map)
    const ops = capture.ops()
    expect(ops.next().value).toEqual(['t', OP.LL_PUSH, 'k', 'x'])
    capture.willApply(['t', OP.LL_PUSH, 'k', 'w'], undefined)
    list.push('w')
    expect([...ops]).toEqual([
      ['t', OP.LL_PUSH, 'k', 'y'],
      ['t', OP.LL_PUSH, 'k', 'z'],
    ])
  })

  it('notices a collection changed in place before the capture was told (its copy is shorter than what was emitted)', () => {
    const list = ['x', 'y', 'z']
    const map = new Map<string, unknown[]>([['k', list]])
    const capture = captureLookupList('t', map)
    const ops = capture.ops()
    ops.next()
    ops.next()
    list.length = 1 // changed behind the capture's back …
    capture.willApply(['t', OP.LL_PUSH, 'k', 'w'], undefined) // … so the copy it keeps now is short
    const error = internalError(() => ops.next())
    expect(error.context).toMatchObject({ invariant: 'capture-copy-covers-emitted', key: 'k', emitted: 2, copied: 1 })
  })
})
