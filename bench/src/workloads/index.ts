// The registry of workloads: add a workload by importing it here and listing it in `WORKLOADS` (run order).
import type { Workload } from '../workload.js'
import { baselineWrite } from './baseline-write.js'
import { bulkInsert } from './bulk-insert.js'
import { compaction } from './compaction.js'
import { durableCommits } from './durable-commits.js'
import { homingDirectory } from './homing-directory.js'
import { homingMove } from './homing-move.js'
import { homingUserDbs } from './homing-user-dbs.js'
import { logAppend } from './log-append.js'
import { logReplay } from './log-replay.js'
import { openReload } from './open-reload.js'
import { pointReads } from './point-reads.js'
import { reactiveWorkload } from './reactive.js'
import { replication } from './replication.js'
import { replicationCommitRate } from './replication-commit-rate.js'
import { replicationHome } from './replication-home.js'
import { replicationLag } from './replication-lag.js'
import { replicationShipping } from './replication-shipping.js'
import { rssDisk } from './rss-disk.js'

/** Every workload the harness knows, in the order `pnpm bench` runs them. */
export const WORKLOADS: readonly Workload[] = [
  baselineWrite,
  logAppend,
  durableCommits,
  bulkInsert,
  pointReads,
  openReload,
  rssDisk,
  reactiveWorkload,
  logReplay,
  compaction,
  replication,
  replicationLag,
  replicationShipping,
  replicationHome,
  replicationCommitRate,
  homingMove,
  homingUserDbs,
  homingDirectory,
]

/** Finds a workload by name, or undefined. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name)
}
