// Describes the machine a benchmark ran on, so every figure in a result file carries its context.
import os from 'node:os'

/** The machine a result was measured on. */
export interface MachineInfo {
  readonly cpus: number
  readonly model: string
  /** Total memory in bytes. */
  readonly memory: number
  readonly node: string
  readonly os: string
  /** ISO timestamp of the run. */
  readonly date: string
  /**
   * 1, 5 and 15 minute load averages when the run ended: on a shared machine a load above the core count means
   * other work competed with the benchmark (absent in files from older runs).
   */
  readonly loadAvg?: readonly number[]
}

/** Collects {@link MachineInfo} for this process's machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memory: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAvg: os.loadavg().map((n) => Math.round(n * 100) / 100),
  }
}
