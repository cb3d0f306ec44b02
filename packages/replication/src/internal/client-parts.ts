// What a shipper and a replica build alike from their options before anything of their own: where the user's home
// is, the transport (the default one closed with the client), the HomeClient over both, and the retry machinery.
import type { ClientOptions } from '../client-options.js'
import { type Clock, systemClock } from '../clock.js'
import { httpTransport } from '../http-transport.js'
import { cryptoRandom, type Random } from '../random.js'
import type { RetryPolicy } from '../retry-policy.js'
import type { Transport } from '../transport.js'
import { Backoff, DEFAULT_RETRY, LoopDetector } from './backoff.js'
import { type ClientHomes, homeResolver } from './client-homes.js'
import { HomeClient } from './home-client.js'

/** The options shipper and replica share: a client's, with where the home is and how to retry. */
type PartsOptions = ClientOptions & { readonly home?: string; readonly retry?: Partial<RetryPolicy> }

/** See the file header. */
export interface ClientParts {
  readonly found: ClientHomes
  readonly transport: Transport
  readonly client: HomeClient
  readonly clock: Clock
  readonly random: Random
  readonly backoff: Backoff
  readonly loops: LoopDetector
  /** Closes what the parts opened themselves: the default transport and a directory opened from a URL. */
  close(): Promise<void>
}

/** Builds the parts from `options`; `timeoutMs`: the default transport's (long-polls need more than appends). */
export function clientParts(options: PartsOptions, timeoutMs?: number): ClientParts {
  const found = homeResolver(options)
  const policy = { ...DEFAULT_RETRY, ...options.retry }
  const random = options.random ?? cryptoRandom
  const clock = options.clock ?? systemClock
  const transport =
    options.transport ??
    httpTransport({
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    })
  const client = new HomeClient({ home: found.resolver, user: options.user, token: options.token, transport, clock })
  return {
    found,
    transport,
    client,
    clock,
    random,
    backoff: new Backoff(policy, random),
    loops: new LoopDetector(policy),
    async close() {
      if (options.transport === undefined) transport.close?.()
      await found.close()
    },
  }
}
