// The operator of the simulated deployment: it rotates users' tokens the documented way (ask the directory where
// the user lives, `POST /v1/admin/users/:user/token` there with the admin token), over the simulated network, and
// retries until a home confirms. Clients learn the new token once it is confirmed (their token function returns
// the latest the operator knows, and they ask it again after a `401`). One rotation of a user at a time: two that
// overlap could reach the home in one order and be confirmed in the other, and clients would then hold a token the
// home replaced (an operator's mistake, not the system's).
import { ADMIN_TOKEN, DIRECTORY_ORIGIN, Incarnation, type SimWorld } from './world.js'

async function json(body: AsyncIterable<Uint8Array>): Promise<Record<string, unknown> | undefined> {
  const parts: Buffer[] = []
  for await (const chunk of body) parts.push(Buffer.from(chunk))
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** The operator's process (it never crashes). */
export class Operator {
  private readonly life: Incarnation
  private rotations = 0
  /** Each user's rotation in progress (the next one waits for it). */
  private readonly rotating = new Map<string, Promise<boolean>>()

  constructor(private readonly world: SimWorld) {
    this.life = new Incarnation(world, 'operator', 1, 10_000)
  }

  /** Gives `user` a new token (a seeded one) once its rotation in progress, if any, ended; true once confirmed. */
  rotate(user: string): Promise<boolean> {
    const next = (this.rotating.get(user) ?? Promise.resolve(true)).then(() => this.rotateNow(user))
    this.rotating.set(user, next)
    return next
  }

  /** Gives `user` a new token, retrying every half second until a home confirms it. */
  private async rotateNow(user: string): Promise<boolean> {
    const token = `tok-${user}-${++this.rotations}-${Buffer.from(this.world.fork().bytes(8)).toString('hex')}`
    this.world.stats.faults['token-rotation']++
    this.world.trace.add('operator', `rotate ${user}'s token`)
    for (let attempt = 1; attempt <= 40; attempt++) {
      const home = await this.confirm(user, token).catch(() => undefined)
      if (home !== undefined) {
        this.world.tokens.set(user, token)
        this.world.trace.add('operator', `${home} confirmed ${user}'s new token (attempt ${attempt})`)
        return true
      }
      await this.life.clock.sleep(500)
    }
    this.world.trace.add('operator', `gave up rotating ${user}'s token`)
    return false
  }

  /** One attempt: the home the directory names, if it confirmed the new token. */
  private async confirm(user: string, token: string): Promise<string | undefined> {
    const { transport } = this.life
    const lookup = await transport.request({
      method: 'GET',
      url: `${DIRECTORY_ORIGIN}/v1/directory/users/${user}`,
      headers: {},
    })
    const entry = await json(lookup.body)
    if (lookup.status !== 200 || typeof entry?.home !== 'string') return undefined
    const answer = await transport.request({
      method: 'POST',
      url: `${entry.home}/v1/admin/users/${user}/token`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ token })),
    })
    await json(answer.body)
    return answer.status === 200 ? entry.home : undefined
  }
}
