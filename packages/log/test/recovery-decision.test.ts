// The recovery decision table (src/internal/recovery.ts), checked on every combination of its facts (TigerBeetle's
// recovery_cases): exactly one case applies to each; the table agrees with the rules of FORMAT.md › Recovery as the
// open applied them before they became a table; and no case can lose data a writable open must keep.
import { describe, expect, it } from 'vitest'
import {
  decideRecovery,
  matchingCases,
  RECOVERY_CASES,
  type RecoveryCase,
  type RecoveryFacts,
} from '../src/internal/recovery.js'

/** Every combination of the facts: 2 × 2 × 2 × 2 × 2 = 32. */
function everyFacts(): RecoveryFacts[] {
  const out: RecoveryFacts[] = []
  for (const next of ['none', 'torn-creation'] as const)
    for (const end of ['eof', 'damage'] as const)
      for (const sealed of [false, true])
        for (const damageSynced of [false, true])
          for (const snapshotAhead of [false, true]) out.push({ next, end, sealed, damageSynced, snapshotAhead })
  return out
}

/** FORMAT.md › Recovery in the order the writable open checked it as a chain of ifs (open-log.ts before the table). */
function formatRules(f: RecoveryFacts): RecoveryCase {
  // Recovery 2: a segment whose successor's creation was cut short was sealed and fdatasynced first.
  if (f.next === 'torn-creation' && (f.end === 'damage' || !f.sealed)) return 'corrupt-after-seal'
  // Recovery 4: a valid snapshot past the last good commit proves those commits were durable.
  if (f.snapshotAhead) return 'corrupt-snapshot-ahead'
  // Recovery 4: damage below what a marker vouches for is corruption, above it a torn tail.
  if (f.end === 'damage') return f.damageSynced ? 'corrupt-synced' : 'torn-tail'
  if (f.next === 'torn-creation') return 'torn-creation'
  // Recovery 6: sealed but no next segment: create it.
  return f.sealed ? 'sealed-roll' : 'clean'
}

const ALL = everyFacts()
const label = (f: RecoveryFacts) => JSON.stringify(f)

describe('the recovery decision table', () => {
  it('has exactly one case for each of the 32 combinations of facts', () => {
    expect(ALL).toHaveLength(32)
    for (const facts of ALL) expect(matchingCases(facts), label(facts)).toHaveLength(1)
  })

  it('decides as the FORMAT.md recovery rules for every combination', () => {
    for (const facts of ALL) expect(decideRecovery(facts).case, label(facts)).toBe(formatRules(facts))
  })

  it('uses every case it declares', () => {
    const used = new Set(ALL.map((f) => decideRecovery(f).case))
    expect([...used].sort()).toEqual([...new Set(RECOVERY_CASES.map((r) => r.decision.case))].sort())
    expect(used.size).toBe(7)
  })

  it('changes nothing when it refuses, and refuses whatever a snapshot or a marker proves durable', () => {
    for (const facts of ALL) {
      const d = decideRecovery(facts)
      if (d.refuse !== 'never')
        expect({ cut: d.cut, deleteTorn: d.deleteTorn, roll: d.roll }, label(facts)).toEqual({
          cut: false,
          deleteTorn: false,
          roll: false,
        })
      if (facts.snapshotAhead) expect(d.refuse, label(facts)).not.toBe('never')
      if (facts.end === 'damage' && facts.damageSynced) expect(d.cut, label(facts)).toBe(false)
    }
  })

  it('cuts only a torn tail, deletes only a torn creation, and rolls only after a seal', () => {
    for (const facts of ALL) {
      const d = decideRecovery(facts)
      expect(d.cut, label(facts)).toBe(d.case === 'torn-tail')
      expect(d.deleteTorn, label(facts)).toBe(d.case === 'torn-creation')
      if (d.roll) expect(facts.sealed, label(facts)).toBe(true)
      if (d.refuse === 'never' && facts.sealed) expect(d.roll, label(facts)).toBe(true)
      if (d.case === 'clean') expect(d).toMatchObject({ cut: false, deleteTorn: false, roll: false })
    }
  })

  it('refuses a read-only open only for damage in a segment that was sealed before its successor was created', () => {
    for (const facts of ALL) {
      const d = decideRecovery(facts)
      expect(d.refuse === 'always', label(facts)).toBe(d.case === 'corrupt-after-seal')
    }
  })
})
