// The mover's client of the move endpoints of homes (PROTOCOL.md, "Moving a user"): JSON in, JSON out, with the
// admin token. Network failures throw (the mover decides what they mean at each step); answers come back as values.
import type { LogPosition } from '../position.js'
import type { Transport } from '../transport.js'
import type { CopyProgress, CopyVerdict } from './copy-progress.js'
import { readBody } from './wire-codec.js'

/** A home's answer: ok with its JSON body, or refused with its wire code. */
export type AdminAnswer<T> =
  | { readonly ok: true; readonly body: T }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string }

/** A schema-less state hash as a home reports it. */
export interface StateHashAnswer {
  readonly logId: string
  readonly seq: number
  readonly chain: string
  readonly hash: string
}

/** A move's status on its target. */
export interface TargetStatus {
  readonly state: string
  readonly epoch?: number
  readonly progress?: CopyProgress
}

export class MoveAdminClient {
  constructor(
    private readonly transport: Transport,
    private readonly adminToken: string,
    private readonly user: string,
  ) {}

  private async call<T>(home: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminAnswer<T>> {
    const response = await this.transport.request({
      method,
      url: `${home}${path}`,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
    })
    const bytes = await readBody(response.body, 16 * 1024 * 1024)
    let parsed: unknown
    try {
      parsed = JSON.parse((bytes ?? Buffer.alloc(0)).toString('utf8'))
    } catch {
      parsed = undefined
    }
    if (response.status >= 200 && response.status < 300) return { ok: true, body: parsed as T }
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error
    return {
      ok: false,
      status: response.status,
      code: error?.code ?? `http-${response.status}`,
      message: error?.message ?? `HTTP ${response.status}`,
    }
  }

  private moves(action: string): string {
    return `/v1/admin/moves/${this.user}/${action}`
  }

  reserve(target: string, body: { moveId: string; from: string; as: string; epoch: number }) {
    return this.call<TargetStatus>(target, 'POST', this.moves('reserve'), body)
  }

  status(target: string) {
    return this.call<TargetStatus>(target, 'GET', `/v1/admin/moves/${this.user}`)
  }

  wait(target: string, moveId: string, position: LogPosition | null, timeoutMs: number) {
    return this.call<{ verdict: CopyVerdict; progress: CopyProgress }>(target, 'POST', this.moves('wait'), {
      moveId,
      position,
      timeoutMs,
    })
  }

  stateHash(home: string, seq?: number) {
    const query = seq === undefined ? '' : `?seq=${seq}`
    return this.call<StateHashAnswer>(home, 'GET', `/v1/admin/users/${this.user}/state-hash${query}`)
  }

  freeze(source: string, moveId: string, leaseMs: number) {
    return this.call<{ head: LogPosition | null; epoch: number; until: number }>(source, 'POST', this.moves('freeze'), {
      moveId,
      leaseMs,
    })
  }

  unfreeze(source: string, moveId: string) {
    return this.call<{ state: string }>(source, 'POST', this.moves('unfreeze'), { moveId })
  }

  moved(source: string, moveId: string) {
    return this.call<{ state: string }>(source, 'POST', this.moves('moved'), { moveId })
  }

  activate(target: string, moveId: string) {
    return this.call<TargetStatus>(target, 'POST', this.moves('activate'), { moveId })
  }

  abandon(target: string, moveId: string) {
    return this.call<TargetStatus>(target, 'POST', this.moves('abandon'), { moveId })
  }
}
