// The options every client of a user's home takes — who the user is, how to find and reach their home, and the
// time and randomness to use — in one place: ShipOptions, ReplicaOptions and HomeSourceOptions extend them.
import type { Clock } from './clock.js'
import type { DirectoryOption } from './directory.js'
import type { HttpTransportOptions } from './http-transport.js'
import type { Random } from './random.js'
import type { TokenSource } from './token-source.js'
import type { Transport } from './transport.js'

/** What `ShipOptions`, `ReplicaOptions` and `HomeSourceOptions` share (each adds `home` and its own options). */
export interface ClientOptions {
  /** The deployment's directory: the home is looked up there, and again whenever a home answers `moved`. */
  readonly directory?: DirectoryOption
  readonly user: string
  /** The user's token, or a function giving the current one (called again after a `401`: see TokenSource). */
  readonly token: TokenSource
  readonly transport?: Transport
  /** CAs (PEM) trusted for an `https://` home, for the default transport (see HttpTransportOptions.ca). */
  readonly ca?: HttpTransportOptions['ca']
  /** Time for waits and timestamps (default: the system clock). */
  readonly clock?: Clock
  /** Randomness for the backoff jitter (default: the OS's CSPRNG). */
  readonly random?: Random
}
