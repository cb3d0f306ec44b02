// The home's limits with their defaults applied (HomeLimitOptions), and the count of long-polls in flight per
// user and on the whole server, which a tail must get a place in before it waits (`429 too-many-tails`).
import { ReplicationConfigError } from '../errors.js'
import type { HomeLimitOptions, RateLimitOptions } from '../home-limits.js'

/** HomeLimitOptions with every default applied. */
export interface ResolvedLimits {
  readonly maxUsers: number
  readonly maxTailsPerUser: number
  readonly maxTails: number
  readonly maxSlotsPerUser: number
  readonly rateLimit: RateLimitOptions | false
}

/** Seconds a client is told to wait (`Retry-After`) when a tail finds no place. */
export const TAIL_RETRY_AFTER_S = 1

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${name} must be a positive integer`, { [name]: value })
  }
  return v
}

function rate(value: RateLimitOptions | false | undefined): RateLimitOptions | false {
  if (value === false) return false
  const perSecond = value?.perSecond ?? 5_000
  const burst = value?.burst ?? 10_000
  if (!(Number.isFinite(perSecond) && perSecond > 0) || !(Number.isFinite(burst) && burst >= 1)) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'rateLimit needs perSecond > 0 and burst ≥ 1', {
      rateLimit: value,
    })
  }
  return { perSecond, burst }
}

/** Applies the defaults (PROTOCOL.md, "Limits"); throws REPLICATION_CONFIG on a bad value. */
export function resolveLimits(options: HomeLimitOptions): ResolvedLimits {
  return {
    maxUsers: positive('maxUsers', options.maxUsers, 100_000),
    maxTailsPerUser: positive('maxTailsPerUser', options.maxTailsPerUser, 32),
    maxTails: positive('maxTails', options.maxTails, 10_000),
    maxSlotsPerUser: positive('maxSlotsPerUser', options.maxSlotsPerUser, 16),
    rateLimit: rate(options.rateLimit),
  }
}

/** Long-polls in flight, per user and in all. */
export class TailCount {
  private readonly perUser = new Map<string, number>()
  private total = 0

  constructor(private readonly limits: ResolvedLimits) {}

  /** Takes a place for a tail of `user`; the function that gives it back, or undefined if there is none. */
  enter(user: string): (() => void) | undefined {
    const mine = this.perUser.get(user) ?? 0
    if (mine >= this.limits.maxTailsPerUser || this.total >= this.limits.maxTails) return undefined
    this.perUser.set(user, mine + 1)
    this.total++
    let left = false
    return () => {
      if (left) return
      left = true
      this.total--
      const n = (this.perUser.get(user) ?? 1) - 1
      if (n === 0) this.perUser.delete(user)
      else this.perUser.set(user, n)
    }
  }

  /** Tails in flight now. */
  get size(): number {
    return this.total
  }
}
