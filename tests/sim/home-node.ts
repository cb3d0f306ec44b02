// A home server in the simulation: the real HomeService over its machine's simulated disk, with the run's virtual
// clock, seeded random and simulated network (to reach the directory and other homes), serving its route table at
// `http://<name>.sim`. Every append it acknowledges is reported to the audit (one home per user and epoch); after
// each restart the users it still serves are checked against what it acknowledged before.
import type { FileLayer } from '@homedb/log'
import { HomeService } from '@homedb/replication'
import { lyingDisk } from './boot-view.js'
import { Machine } from './machine.js'
import { ADMIN_TOKEN, DIRECTORY_ORIGIN, type Incarnation, originOf, type SimWorld } from './world.js'

/** How the homes of a run are set up (small pages and segments, short leases: more happens per simulated minute). */
export const HOME_SETTINGS = {
  pageCommits: 16,
  segmentBytes: 4096,
  maxOpenLogs: 2,
  maxWaitMs: 3_000,
  maxLeaseMs: 3_000,
  reconcileIntervalMs: 1_000,
  movedRetentionMs: 30_000,
  maxSlotLagBytes: 32 * 1024,
} as const

/** One home server machine. */
export class HomeNode extends Machine {
  readonly origin: string
  service: HomeService | undefined

  constructor(world: SimWorld, name: string) {
    super(world, name, 'home', 30_000)
    this.origin = originOf(name)
  }

  protected override layer(root: string): FileLayer {
    const layer = super.layer(root)
    return this.world.variant === 'lying-disk' ? lyingDisk(layer, (path) => path.includes('/home/users/')) : layer
  }

  protected async open(life: Incarnation, layer: FileLayer, root: string): Promise<void> {
    const service = await HomeService.open({
      ...HOME_SETTINGS,
      dataDir: `${root}/home`,
      adminToken: ADMIN_TOKEN,
      fileLayer: layer,
      clock: life.clock,
      random: life.random,
      transport: life.transport,
      directory: DIRECTORY_ORIGIN,
      publicUrl: this.origin,
      processMetrics: false,
      onAccepted: (append) => {
        if (life.alive) this.world.checks.accepted(this.name, append)
      },
    })
    if (!life.alive) return
    this.service = service
    service.listening(this.origin)
    this.world.network.serve(this.name, this.origin, service)
    this.world.scheduler.task(this.world.scheduler.now, () => this.checkRecovered(life, service))
  }

  protected down(): void {
    this.world.network.unserve(this.origin)
    this.service = undefined
  }

  /** Asks the home itself (not over the network) for `path` with the admin token; the JSON answer, or undefined. */
  async ask(service: HomeService, path: string): Promise<Record<string, unknown> | undefined> {
    const answer = await this.askRaw(service, path)
    return answer.status === 200 ? answer.json : undefined
  }

  /** Asks the home itself for `path` with the admin token: the status and the JSON answer. */
  private async askRaw(service: HomeService, path: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const answer = await service.handle({
      method: 'GET',
      path,
      query: {},
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: new Uint8Array(),
      signal: new AbortController().signal,
    })
    const parts: Buffer[] = []
    if (answer.body instanceof Uint8Array) parts.push(Buffer.from(answer.body))
    else if (answer.body !== undefined) for await (const chunk of answer.body) parts.push(Buffer.from(chunk))
    const text = Buffer.concat(parts).toString('utf8')
    return { status: answer.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
  }

  /** The durable head this home serves `user` at (null: no log yet; undefined: it does not serve the user now). */
  async head(user: string): Promise<{ logId: string; seq: number; chain: string } | null | undefined> {
    const service = this.service
    if (service === undefined) return undefined
    const info = await this.ask(service, `/v1/users/${user}/log`)
    if (info === undefined) return undefined
    const log = info.log as { head: { logId: string; seq: number; chain: string } } | null
    return log === null ? null : log.head
  }

  /**
   * After a (re)start: every user it serves still holds what it acknowledged under that epoch — and can read it: a
   * log the home cannot open (a 500 with no disk error injected in this boot) lost its acknowledged appends too.
   */
  private async checkRecovered(life: Incarnation, service: HomeService): Promise<void> {
    const fs = this.fs
    for (const user of service.users()) {
      if (!life.alive) return
      if (user.state !== 'active') continue
      const info = await this.askRaw(service, `/v1/users/${user.name}/log`).catch(() => undefined)
      if (!life.alive || info === undefined) return
      if (info.status === 500 && fs.fired.length === 0 && !fs.isDead) {
        const message = (info.json.error as { message?: string } | undefined)?.message
        this.world.checks.unreadable(this.name, user.name, user.epoch, message ?? 'a 500')
      }
      const log = info.json.log as { head: { logId: string; seq: number; chain: string } } | null | undefined
      if (info.status !== 200 || log === undefined || log === null || info.json.epoch !== user.epoch) continue
      this.world.checks.homeRecovered(this.name, user.name, user.epoch, log.head)
    }
  }
}
