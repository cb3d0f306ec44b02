// Retry pacing shared by the shipper and the replica: capped exponential backoff with jitter (through Clock and
// Random), and loop detection: the same answer at the same position N times escalates the backoff, and past a
// limit becomes a typed REPLICATION_LOOP error, so a client never spins (Electric's 409 loops).
import type { Clock } from '../clock.js'
import type { Random } from '../random.js'
import type { RetryPolicy } from '../retry-policy.js'

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 50, maxMs: 5_000, loopThreshold: 3, loopLimit: 12 }

export class Backoff {
  private attempt = 0
  constructor(
    private readonly policy: RetryPolicy,
    private readonly random: Random,
  ) {}

  /** The next delay: base·2^attempt capped at max, times a jitter in [0.5, 1). */
  next(): number {
    const raw = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return raw * (0.5 + this.random.next() / 2)
  }

  reset(): void {
    this.attempt = 0
  }
}

/** Counts identical (answer, position) pairs in a row. */
export class LoopDetector {
  private last = ''
  private count = 0
  constructor(private readonly policy: RetryPolicy) {}

  /** Records an answer; `'ok'`, `'slow-down'` (escalate the backoff) or `'loop'` (give up). */
  see(answer: string, seq: number): 'ok' | 'slow-down' | 'loop' {
    const key = `${answer}@${seq}`
    this.count = key === this.last ? this.count + 1 : 1
    this.last = key
    if (this.count >= this.policy.loopLimit) return 'loop'
    return this.count >= this.policy.loopThreshold ? 'slow-down' : 'ok'
  }

  /** Progress was made: forget the streak. */
  reset(): void {
    this.last = ''
    this.count = 0
  }

  get streak(): number {
    return this.count
  }

  /** The delay while slowing down: `maxMs` once per repeat past the threshold (beyond the usual cap). */
  escalation(): number {
    return this.policy.maxMs * Math.max(0, this.count - this.policy.loopThreshold + 1)
  }
}

/**
 * Calls `call` again while it answers 429 or 503 (a busy home), waiting what the answer asked (`Retry-After`) or
 * the backoff, whichever is longer, at most `attempts` times in all; returns the last answer. For clients without
 * a state machine of their own (homeSource); a busy answer is never a loop.
 */
export async function whileBusy<T>(call: () => Promise<T>, backoff: Backoff, clock: Clock, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const answer = await call()
    const control = answer as { ok?: boolean; status?: number; retryAfterMs?: number }
    const busy = control.ok === false && (control.status === 429 || control.status === 503)
    if (!busy || attempt >= attempts) return answer
    await clock.sleep(Math.max(backoff.next(), control.retryAfterMs ?? 0))
  }
}
