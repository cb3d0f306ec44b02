// Per-credential request rate: a token bucket per bearer token (keyed by a digest of it, so valid, wrong and
// unknown tokens are limited alike and the answer tells nothing about them), and per client address for requests
// without a token. Buckets live in a bounded LRU map; time comes from the home's Clock (a simulation runs it).
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { RateLimitOptions } from '../home-limits.js'
import type { WireRequest, WireResponse } from '../wire.js'
import { wireError } from './wire-codec.js'

/** Buckets kept at most (the least recently used is forgotten: its next request starts with a full burst). */
export const MAX_BUCKETS = 100_000

interface Bucket {
  tokens: number
  at: number
}

/** Token buckets by key: `perSecond` refill, `burst` capacity, at most `maxBuckets` keys kept. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly options: RateLimitOptions,
    private readonly clock: Clock,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {}

  /** Takes one request from `key`'s bucket: 0 if admitted, else the ms until the next request would be. */
  take(key: string): number {
    const now = this.clock.now()
    const { perSecond, burst } = this.options
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: burst, at: now }
      if (this.buckets.size >= this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value!)
    } else {
      this.buckets.delete(key)
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000)
      bucket.at = now
    }
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / perSecond)
  }

  /** Buckets held now. */
  get size(): number {
    return this.buckets.size
  }
}

/** The credential a request is limited by: a digest of its bearer token, else its client address. */
export function rateKey(request: WireRequest): string {
  const header = request.headers.authorization
  if (header !== undefined && header !== '') {
    return `t:${createHash('sha256').update(header, 'utf8').digest('base64url').slice(0, 22)}`
  }
  return `a:${request.remote ?? 'unknown'}`
}

/** What {@link admit} needs of the home (its HomeContext): the limiter, undefined when the rate limit is off. */
export interface RateHost {
  readonly rate: RateLimiter | undefined
}

/** The 429 answer when `request`'s credential is over its rate, or undefined when it is admitted. */
export function admit(ctx: RateHost, request: WireRequest): WireResponse | undefined {
  const wait = ctx.rate?.take(rateKey(request)) ?? 0
  if (wait === 0) return undefined
  return wireError(429, 'rate-limited', 'too many requests with this token: slow down', { retryAfterMs: wait })
}
