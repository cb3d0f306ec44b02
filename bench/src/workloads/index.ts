// The registry of workloads: add a workload by importing it here and listing it in `WORKLOADS` (run order).
import type { Workload } from '../workload.js'
import { baselineWrite } from './baseline-write.js'

/** Every workload the harness knows, in the order `pnpm bench` runs them. */
export const WORKLOADS: readonly Workload[] = [baselineWrite]

/** Finds a workload by name, or undefined. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name)
}
