// Bytes on disk per user for the operator page: the sizes of the files under `users/<name>/` (every log generation
// kept: the current one, superseded ones, a moved user's read-only copy). Measuring lists directories, so it is done
// for the users the page shows, again only when their head moved and the last measure is a few seconds old, and at
// most a few per refresh: a home of 100 000 users is never walked whole.
import { join } from 'node:path'
import type { FileLayer } from '@homedb/log'

/** A measure is redone at most this often per user, ms. */
const STALE_MS = 5_000
/** Users measured per refresh at most. */
const PER_REFRESH = 32
/** Measures kept at most (the least recently measured is forgotten). */
const MAX_MEASURES = 10_000

interface Measure {
  readonly bytes: number
  readonly at: number
  /** The head seq when measured (a moved head makes the measure stale). */
  readonly seq: number | null
}

/** The last measure of each user the page looked at. */
export class DiskUsage {
  private readonly measures = new Map<string, Measure>()

  constructor(
    private readonly fs: FileLayer,
    private readonly dataDir: string,
  ) {}

  /** The last measure of `user`, if any. */
  bytes(user: string): number | null {
    return this.measures.get(user)?.bytes ?? null
  }

  /** Measures those of `users` never measured or stale (head moved, measure older than 5 s), a few at most. */
  async refresh(users: readonly { readonly name: string; readonly seq: number | null }[], now: number): Promise<void> {
    let done = 0
    for (const { name, seq } of users) {
      if (done >= PER_REFRESH) return
      const last = this.measures.get(name)
      if (last !== undefined && (last.seq === seq || now - last.at < STALE_MS)) continue
      done++
      const bytes = await this.measure(name)
      this.measures.delete(name)
      this.measures.set(name, { bytes, at: now, seq })
      if (this.measures.size > MAX_MEASURES) this.measures.delete(this.measures.keys().next().value!)
    }
  }

  /** Measures `user` now. */
  async measure(user: string): Promise<number> {
    const dir = join(this.dataDir, 'users', user)
    let bytes = 0
    for (const generation of await this.list(dir)) {
      const sub = join(dir, generation)
      for (const file of await this.list(sub)) bytes += (await this.fs.size(join(sub, file)).catch(() => 0)) ?? 0
    }
    return bytes
  }

  private async list(dir: string): Promise<string[]> {
    return this.fs.readdir(dir).catch(() => [])
  }
}
