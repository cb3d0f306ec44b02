// Recovery policy as one pure decision (FORMAT.md › Recovery at a writable open). The open and verifyLog gather the
// facts about the end of a log directory; `decideRecovery` says which rule applies, and so what a writable open does
// (cut, delete, roll, or refuse) and what verifyLog reports. No I/O here: every combination of facts is enumerated by
// test/recovery-decision.test.ts, which checks that exactly one case matches each and that none loses durable data.
import { SEGMENT_HEADER_BYTES } from './format.js'
import { invariant } from './invariant.js'

/** What a writable open found at the end of the log; see each field for the FORMAT.md rule it feeds. */
export interface RecoveryFacts {
  /**
   * What follows the last intact segment: nothing, or a last file whose header never decoded and that can be a
   * creation cut short by a crash ({@link isTornCreation}, FORMAT.md › Recovery 2).
   */
  readonly next: 'none' | 'torn-creation'
  /** How the scan of the last intact segment ended: exactly at the end of the file, or at damage (Recovery 3). */
  readonly end: 'eof' | 'damage'
  /** The last intact segment's last valid frame is a seal. */
  readonly sealed: boolean
  /** The damage lies below the highest offset a batch marker vouches for as durable (Recovery 4). */
  readonly damageSynced: boolean
  /** A valid snapshot of this log exists at a seq past the last commit the scan kept (Recovery 4). */
  readonly snapshotAhead: boolean
}

/** The rule that applies; the name says what it is, {@link RecoveryDecision} what it does. */
export type RecoveryCase =
  | 'clean'
  | 'sealed-roll'
  | 'torn-tail'
  | 'torn-creation'
  | 'corrupt-synced'
  | 'corrupt-snapshot-ahead'
  | 'corrupt-after-seal'

/** What the open does in a case. A refusal changes nothing on disk. */
export interface RecoveryDecision {
  readonly case: RecoveryCase
  /** The FORMAT.md rule, for messages and for readers of the code. */
  readonly rule: string
  /** `'writable'`: a writable open is refused (LOG_CORRUPT); `'always'`: a read-only open is refused too. */
  readonly refuse: 'never' | 'writable' | 'always'
  /** Truncate the last segment where the damage starts. */
  readonly cut: boolean
  /** Delete the torn creation that follows the last intact segment. */
  readonly deleteTorn: boolean
  /** Create the next segment: the last one is sealed, so nothing more may be written to it. */
  readonly roll: boolean
}

type Pattern = { readonly [K in keyof RecoveryFacts]?: RecoveryFacts[K] }

interface CaseRow {
  readonly when: Pattern
  readonly decision: Omit<RecoveryDecision, 'roll'> & { readonly roll: boolean | 'if-sealed' }
}

const REFUSE = { refuse: 'writable', cut: false, deleteTorn: false, roll: false } as const

/**
 * The decision table. A row matches when every fact it names has that value (facts it leaves out may be anything).
 * Rows are disjoint: the order carries no meaning.
 */
export const RECOVERY_CASES: readonly CaseRow[] = [
  // A roll seals and fdatasyncs a segment before it creates the next: if the next one's creation was cut short,
  // this segment must be complete and sealed, so any damage in it is corruption (read-only opens refuse it too).
  {
    when: { next: 'torn-creation', end: 'damage' },
    decision: { case: 'corrupt-after-seal', rule: 'Recovery 2', ...REFUSE, refuse: 'always' },
  },
  {
    when: { next: 'torn-creation', end: 'eof', sealed: false },
    decision: { case: 'corrupt-after-seal', rule: 'Recovery 2', ...REFUSE, refuse: 'always' },
  },
  // A snapshot is written only once the log is durable up to its seq: one past what the segment holds proves that
  // durable commits are damaged or gone. Cutting would leave the log behind its own snapshot.
  {
    when: { next: 'torn-creation', end: 'eof', sealed: true, snapshotAhead: true },
    decision: { case: 'corrupt-snapshot-ahead', rule: 'Recovery 4', ...REFUSE },
  },
  {
    when: { next: 'none', snapshotAhead: true },
    decision: { case: 'corrupt-snapshot-ahead', rule: 'Recovery 4', ...REFUSE },
  },
  // Damage inside data a marker vouches for as durable.
  {
    when: { next: 'none', end: 'damage', damageSynced: true, snapshotAhead: false },
    decision: { case: 'corrupt-synced', rule: 'Recovery 4', ...REFUSE },
  },
  // The last unsynced batch was cut short or reached the disk out of order: cut it. If what is left ends with a
  // seal (damage after a seal), the next segment is created too.
  {
    when: { next: 'none', end: 'damage', damageSynced: false, snapshotAhead: false },
    decision: {
      case: 'torn-tail',
      rule: 'Recovery 4',
      refuse: 'never',
      cut: true,
      deleteTorn: false,
      roll: 'if-sealed',
    },
  },
  // The crash hit while the next segment was being created: delete what there is of it and create it again.
  {
    when: { next: 'torn-creation', end: 'eof', sealed: true, snapshotAhead: false },
    decision: { case: 'torn-creation', rule: 'Recovery 2', refuse: 'never', cut: false, deleteTorn: true, roll: true },
  },
  // The crash hit between sealing a segment and creating the next.
  {
    when: { next: 'none', end: 'eof', sealed: true, snapshotAhead: false },
    decision: { case: 'sealed-roll', rule: 'Recovery 6', refuse: 'never', cut: false, deleteTorn: false, roll: true },
  },
  {
    when: { next: 'none', end: 'eof', sealed: false, snapshotAhead: false },
    decision: { case: 'clean', rule: 'Recovery 5', refuse: 'never', cut: false, deleteTorn: false, roll: false },
  },
]

/** The rows of {@link RECOVERY_CASES} that match `facts` (exactly one, which the tests prove for every input). */
export function matchingCases(facts: RecoveryFacts): CaseRow[] {
  return RECOVERY_CASES.filter((row) =>
    (Object.keys(row.when) as (keyof RecoveryFacts)[]).every((key) => row.when[key] === facts[key]),
  )
}

/** Which recovery rule applies to `facts`, and what it does. */
export function decideRecovery(facts: RecoveryFacts): RecoveryDecision {
  const rows = matchingCases(facts)
  invariant(rows.length === 1, 'one-recovery-case', () => ({ ...facts, cases: rows.map((r) => r.decision.case) }))
  const { roll, ...rest } = rows[0]!.decision
  return { ...rest, roll: roll === 'if-sealed' ? facts.sealed : roll }
}

/**
 * Whether a segment whose header does not decode can be a creation that a crash cut short, rather than damage: it
 * is the last segment, holds no more than a header, and is either the log's first (no snapshot exists yet) or
 * directly follows an intact segment (a roll releases nothing before the new header is durable). Deleting any
 * other would restart the log at its base (FORMAT.md › Recovery 2).
 */
export function isTornCreation(segment: {
  readonly number: number
  readonly size: number
  readonly isLast: boolean
  /** Number of the last intact segment before it, if any. */
  readonly previous: number | undefined
  readonly snapshots: boolean
}): boolean {
  const { number, size, isLast, previous, snapshots } = segment
  const creatable = previous !== undefined ? number === previous + 1 : number === 1 && !snapshots
  return isLast && size <= SEGMENT_HEADER_BYTES && creatable
}
