// The embedded directory in the simulation: the real DirectoryService over its machine's simulated disk, served at
// `http://directory.sim` with the same parameter patterns as `startDirectory`. It also tells the run when a frozen
// home took its user back (an epoch that grew without the home changing: a lease that ran out), and audits its
// writes: a user's homeEpoch, once the directory named a home under it, never names another home (a switch and a
// take-back racing from the same epoch: only one compare-and-set may win).
import type { FileLayer } from '@homedb/log'
import { type DirectoryEntry, DirectoryService } from '@homedb/replication'
import { Machine } from './machine.js'
import { ADMIN_TOKEN, DIRECTORY_ORIGIN, type Incarnation, type SimWorld } from './world.js'

const USER = /^[a-z0-9][a-z0-9._-]{0,62}$/

/** A home's name from its URL (`http://home-a.sim` → `home-a`). */
function bare(home: string): string {
  return home.replace(/^http:\/\/|\.sim$/g, '')
}

/** The directory machine. */
export class DirectoryNode extends Machine {
  service: DirectoryService | undefined
  private readonly seen = new Map<string, DirectoryEntry>()
  /** The home the directory named under each `user@homeEpoch`. */
  private readonly epochHomes = new Map<string, string>()

  constructor(world: SimWorld) {
    super(world, 'directory', 'directory', 30_000)
  }

  protected async open(life: Incarnation, layer: FileLayer, root: string): Promise<void> {
    const service = await DirectoryService.open({
      dataDir: `${root}/directory`,
      adminToken: ADMIN_TOKEN,
      maxWaitMs: 3_000,
      fileLayer: layer,
      clock: life.clock,
      random: life.random,
    })
    if (!life.alive) return
    this.service = service
    service.local.watch((entry) => {
      if (life.alive) this.changed(entry)
    })
    this.world.network.serve('directory', DIRECTORY_ORIGIN, { routes: service.routes, paramPatterns: { user: USER } })
  }

  private changed(entry: DirectoryEntry): void {
    const before = this.seen.get(entry.user)
    this.seen.set(entry.user, entry)
    this.world.trace.add('directory', `${entry.user} → ${bare(entry.home)} @${entry.homeEpoch} ${entry.state}`)
    if (before !== undefined && entry.homeEpoch > before.homeEpoch && entry.home === before.home) {
      this.world.stats.leaseTakeBacks++
    }
    this.oneHomePerEpoch(entry)
  }

  private oneHomePerEpoch(entry: DirectoryEntry): void {
    this.world.stats.checks++
    const key = `${entry.user}@${entry.homeEpoch}`
    const named = this.epochHomes.get(key)
    if (named === undefined) this.epochHomes.set(key, entry.home)
    else if (named !== entry.home) {
      this.world.checks.violation(
        'one home per epoch',
        `the directory named ${bare(named)} and then ${bare(entry.home)} as ${entry.user}'s home under homeEpoch ${entry.homeEpoch}`,
      )
    }
  }

  protected down(): void {
    this.world.network.unserve(DIRECTORY_ORIGIN)
    this.service = undefined
  }

  /** The entry the directory holds for `user` now (undefined while it is down). */
  async entry(user: string): Promise<DirectoryEntry | undefined> {
    return this.service?.local.lookup(user)
  }
}
