// Options of HomeService.open (and of startHomeServer): a public type in a file of its own so the pieces the service
// is built from (internal/homing-setup.ts) read them without importing home-service.ts, which imports them.
import type { FileLayer } from '@homedb/log'
import type { AcceptedAppend } from './accepted-append.js'
import type { Clock } from './clock.js'
import type { DirectoryOption } from './directory.js'
import type { HomeLimitOptions } from './home-limits.js'
import type { OperatorUiOptions } from './operator-ui-options.js'
import type { Random } from './random.js'
import type { Transport } from './transport.js'

/** Options of `HomeService.open` (and of `startHomeServer`). Every limit has a documented default. */
export interface HomeServiceOptions extends HomeLimitOptions {
  /** Directory holding everything: `meta/` (the home's records) and `users/<name>/log-<n>/` (each user's log). */
  readonly dataDir: string
  /**
   * Token for the admin endpoints (adding users, rotating tokens, status), at least 16 characters. Without one
   * they always answer `unauthorized`.
   */
  readonly adminToken?: string
  /** File operations (default: node:fs). The simulation passes its simulated file system. */
  readonly fileLayer?: FileLayer
  readonly clock?: Clock
  readonly random?: Random
  /** User logs kept open while idle (LRU). Default 256: at most ~2 descriptors each. */
  readonly maxOpenLogs?: number
  /** Commits per cacheable page. Default 256. */
  readonly pageCommits?: number
  /** Largest append body. Default 16 MiB. */
  readonly maxAppendBytes?: number
  /** Largest single frame. Default 16 MiB. */
  readonly maxFrameBytes?: number
  /** Largest snapshot upload (held in memory while it is checked). Default 256 MiB. */
  readonly maxSnapshotBytes?: number
  /** Most frame bytes in one tail answer (at least one frame is always sent). Default 1 MiB. */
  readonly maxResponseBytes?: number
  /** Longest a tail request waits for new commits. Default 20 000 ms. */
  readonly maxWaitMs?: number
  /** A replica slot not confirmed for this long stops holding commits. Default 7 days. */
  readonly maxSlotAgeMs?: number
  /** A replica slot that would keep more than this many bytes of commits stops holding them. Default 64 MiB. */
  readonly maxSlotLagBytes?: number
  /** Serve pages and snapshots with `Cache-Control: public` (only behind a cache that checks tokens). Default false. */
  readonly publicSegments?: boolean
  /** Segment size of the users' logs (default: @homedb/log's). */
  readonly segmentBytes?: number
  /**
   * The key users' tokens are hashed with (HMAC-SHA256): base64url of at least 32 random bytes, the same on every
   * home of a deployment so a moved user keeps its token. With a `directory` and no `tokenKey`, the home reads the
   * deployment's key from the directory. Without either, the home uses a secret of its own from its records.
   */
  readonly tokenKey?: string
  /**
   * The deployment's directory (a URL, `{ etcd: { hosts } }` or a Directory): users added here are registered in
   * it, users can move to and from other homes, and requests for users that moved away answer `moved`. The home
   * uses its `adminToken` with it (one admin token per deployment).
   */
  readonly directory?: DirectoryOption
  /** The URL the directory names this home by. Default: the URL `startHomeServer` listens on. */
  readonly publicUrl?: string
  /** Longest lease a move's freeze may ask for, ms. Default 10 000 (then the home asks the directory). */
  readonly maxLeaseMs?: number
  /** How long the read-only copy of a user that moved away is kept, ms. Default 72 h. */
  readonly movedRetentionMs?: number
  /** How often the home reconciles with the directory (besides watching it), ms. Default 5 000. */
  readonly reconcileIntervalMs?: number
  /** How this home reaches other homes (a move's target reads its source). Default: keep-alive HTTP(S). */
  readonly transport?: Transport
  /** Called once per acknowledged append that added commits (after fsync, before the answer): audits, tests. */
  readonly onAccepted?: (append: AcceptedAppend) => void
  /** The operator page at `/ui` (on by default; it needs the admin token). */
  readonly ui?: OperatorUiOptions
  /**
   * Export prom-client's process metrics (open fds, RSS, event-loop lag, GC) on `/metrics`. Default true. They are
   * collected by process-wide observers that stay for the life of the process, one set per HomeService opened: a
   * process that opens many (a simulation, tests) turns them off.
   */
  readonly processMetrics?: boolean
}
