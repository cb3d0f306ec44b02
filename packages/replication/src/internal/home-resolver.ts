// Where a client finds a user's home: a fixed `home:`, or the directory, cached. A home that answers `moved` names
// the user's new home and epoch; the client follows it, asking the directory again when it has one (the directory
// is the authority; the answer is the fallback when the directory cannot be reached). Redirects that go in
// circles (A says B, B says A, …) are a loop: after `loopLimit` of them the client stops with REPLICATION_LOOP.
// A refused token sends a client with a directory back to it: the home it asked may be one the user left.
import type { Directory } from '../directory.js'
import { ReplicationStoppedError } from '../errors.js'
import { DirectoryError } from '../homing-errors.js'

export interface HomeResolverOptions {
  readonly user: string
  /** A fixed first home (`home:`), followed only through `moved` answers. */
  readonly home?: string
  /** The directory (`directory:`): looked up first, and again after each `moved`. */
  readonly directory?: Directory
  /** Redirects to a (home, epoch) already visited since the last success before REPLICATION_LOOP. Default 8. */
  readonly loopLimit?: number
}

/** The user's home as a client currently believes it. */
export class HomeResolver {
  private home: string | undefined
  private epoch = 0
  private readonly visited = new Map<string, number>()
  private lookup: Promise<string> | undefined

  constructor(private readonly options: HomeResolverOptions) {
    this.home = options.home?.replace(/\/+$/, '')
  }

  /** The home to ask now (looked up in the directory the first time). */
  current(): Promise<string> {
    if (this.home !== undefined) return Promise.resolve(this.home)
    this.lookup ??= this.fromDirectory().finally(() => {
      this.lookup = undefined
    })
    return this.lookup
  }

  /** The homeEpoch the current home was named with (0 if unknown). */
  get knownEpoch(): number {
    return this.epoch
  }

  private async fromDirectory(): Promise<string> {
    const { directory, user } = this.options
    if (directory === undefined) throw new DirectoryError('REPLICATION_UNKNOWN_USER', `no home for ${user}`, { user })
    const entry = await directory.lookup(user)
    if (entry === undefined) {
      throw new DirectoryError('REPLICATION_UNKNOWN_USER', `the directory has no user ${user}`, { user })
    }
    this.home = entry.home
    this.epoch = entry.homeEpoch
    return entry.home
  }

  /**
   * A home answered `moved` to `home` at `epoch`: switches to the directory's answer (or, without one reachable,
   * to this one). Throws REPLICATION_LOOP when the redirects keep coming back to where they were.
   */
  async moved(home: string, epoch: number): Promise<void> {
    let next = { home: home.replace(/\/+$/, ''), epoch }
    const directory = this.options.directory
    if (directory !== undefined) {
      const entry = await directory.lookup(this.options.user).catch(() => undefined)
      if (entry !== undefined && entry.homeEpoch >= next.epoch) next = { home: entry.home, epoch: entry.homeEpoch }
    }
    const key = `${next.home}@${next.epoch}`
    const seen = (this.visited.get(key) ?? 0) + 1
    this.visited.set(key, seen)
    if (seen > (this.options.loopLimit ?? 8)) {
      throw new ReplicationStoppedError('REPLICATION_LOOP', `redirects for ${this.options.user} go in circles`, {
        user: this.options.user,
        visited: [...this.visited.keys()],
      })
    }
    this.home = next.home
    this.epoch = next.epoch
  }

  /**
   * The current home refused the token: with a directory, the next request looks the home up again. A home the user
   * moved away from keeps the token it had then, so after a rotation at the new home it answers `401`, never `moved`.
   */
  refused(): void {
    if (this.options.directory !== undefined) this.home = undefined
  }

  /** A request succeeded at the current home: forget the redirects seen so far. */
  settled(): void {
    if (this.visited.size > 0) this.visited.clear()
  }
}
