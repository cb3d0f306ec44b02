// A simulated machine with a disk (a home, the directory, a writer): its simulated file system outlives its
// processes. A power cut builds the disk as it is after the power returns (SimFs.crash, in the mode the seed picks,
// now or at the nth file-system call from now, in the middle of whatever runs); a process restart keeps unsynced
// data unsynced; an injected disk error fails one call. After each, a supervisor starts the process again after a
// seeded downtime, as systemd or Kubernetes would. The subclass opens and drops the service itself.

import type { FileLayer } from '@homedb/log'
import { CRASH_MODES, type CrashMode, type SimFaultSpec, SimFs, type SimOp } from '@homedb/testkit'
import { bootRoot, bootView } from './boot-view.js'
import type { SimTimer } from './scheduler.js'
import type { FaultKind } from './sim-stats.js'
import { Incarnation, type SimWorld } from './world.js'

/** File-system operations a disk fault may hit, weighted by how much they matter. */
const FAULT_OPS: readonly SimOp[] = [
  'write',
  'write',
  'datasync',
  'datasync',
  'open',
  'rename',
  'unlink',
  'syncDir',
  'read',
  'size',
  'mkdir',
  'truncate',
  'sync',
  'readdir',
]

/** A machine whose process can crash and restart while its disk stays. */
export abstract class Machine {
  fs: SimFs
  boot = 0
  life: Incarnation | undefined
  /** The process is up and serving. */
  up = false
  /** Gone for good (see {@link retire}). */
  retired = false
  private handledFaults = 0
  private armed = false
  /** The start the supervisor scheduled, if one is pending. */
  private pending: SimTimer | undefined

  constructor(
    protected readonly world: SimWorld,
    readonly name: string,
    private readonly kind: 'home' | 'directory' | 'writer',
    private readonly timeoutMs: number,
  ) {
    this.fs = new SimFs(world.fork())
  }

  /** Opens the service on `layer` (the disk as this boot sees it, rooted at `root`). */
  protected abstract open(life: Incarnation, layer: FileLayer, root: string): Promise<void>
  /** The process is gone: stop answering (the objects of the dead process are dropped, never closed). */
  protected abstract down(): void

  /** Starts a new incarnation; if it cannot start (its directory unreachable, a disk error), tries again later. */
  async start(): Promise<void> {
    if (this.retired) return
    this.pending?.cancel()
    this.pending = undefined
    this.life?.kill()
    const boot = ++this.boot
    const life = new Incarnation(this.world, this.name, boot, this.timeoutMs)
    this.life = life
    try {
      const root = bootRoot(this.world.runId, this.name, boot)
      await this.open(life, this.layer(root), root)
      if (!life.alive) return
      this.up = true
      this.world.trace.add(this.name, `up (boot ${boot})`)
    } catch (error) {
      if (!life.alive) return
      this.world.trace.add(this.name, `did not start: ${(error as Error).message.slice(0, 120)}`)
      life.kill()
      this.startIn(1_000)
    }
  }

  /** (Re)starts the process in `ms`: one start pending at a time. */
  private startIn(ms: number): void {
    this.pending?.cancel()
    this.pending = this.world.scheduler.task(this.world.scheduler.now + ms, () => this.start())
  }

  /** The disk as a boot rooted at `root` sees it (a variant may wrap it). */
  protected layer(root: string): FileLayer {
    return bootView(this.fs, root)
  }

  private stop(): void {
    this.up = false
    this.life?.kill()
    this.down()
  }

  private later(): void {
    this.startIn(this.world.fork().int(100, 4_000))
  }

  /** Power cut now (or, with `midCall`, at one of the next file-system calls). */
  powerCut(midCall: boolean): void {
    if (midCall) {
      this.armed = true
      this.fs.crashAfterCalls(this.world.fork().int(1, 60))
      this.world.trace.add(this.name, 'power cut armed (mid-call)')
      return
    }
    this.cut(this.world.fork().pick(CRASH_MODES), false)
  }

  private cut(mode: CrashMode, midCall: boolean): void {
    this.stop()
    const { fs, report } = this.fs.crash(mode, this.world.fork())
    this.fs = fs
    this.armed = false
    this.handledFaults = 0
    this.world.stats.faults[`${this.kind}-crash` as FaultKind]++
    if (midCall) this.world.stats.crashesMidCall++
    this.world.trace.add(
      this.name,
      `power cut (${mode}${midCall ? ', mid-call' : ''}): kept ${report.keptDataOps}/${report.keptDataOps + report.droppedDataOps} data ops, ${report.keptDirOps}/${report.keptDirOps + report.droppedDirOps} dir ops`,
    )
    this.later()
  }

  /** The machine is gone for good (its disk with it): it never starts again and no fault picks it. */
  retire(): void {
    this.retired = true
    this.pending?.cancel()
    this.stop()
    this.world.trace.add(this.name, 'lost for good, with its disk')
  }

  /** Process death without power loss (kill -9, or a supervisor restarting it). */
  restart(why: string): void {
    this.stop()
    this.fs = this.fs.restart(this.world.fork()).fs
    this.armed = false
    this.handledFaults = 0
    this.world.trace.add(this.name, `process restart (${why})`)
    this.later()
  }

  /** Arms a disk error on one of the next calls. */
  diskFault(): void {
    const rng = this.world.fork()
    const op = rng.pick(FAULT_OPS)
    const spec: SimFaultSpec = {
      op,
      nth: rng.int(1, 30),
      code: rng.chance(0.8) ? 'EIO' : 'ENOSPC',
      ...(op === 'write' ? { torn: rng.chance(0.5) } : {}),
      ...(op === 'datasync' || op === 'sync' ? { loseDirty: rng.chance(0.5) } : {}),
    }
    this.fs.arm(spec)
    this.world.stats.faults['disk-fault']++
    this.world.trace.add(this.name, `disk fault armed: ${spec.code} on the ${spec.nth}th ${op}`)
  }

  /** At every quiescent point: a power cut that fired mid-call, or a disk error that fired, is dealt with. */
  poll(): void {
    if (this.retired) return
    if (this.armed && this.fs.isDead) {
      const at = this.fs.crashedAt
      this.world.trace.add(this.name, `power cut at ${at?.op} ${at?.path ?? ''}`)
      this.cut(this.world.fork().pick(CRASH_MODES), true)
      return
    }
    if (this.fs.fired.length > this.handledFaults) {
      const fired = this.fs.fired[this.handledFaults]!
      this.handledFaults = this.fs.fired.length
      this.world.trace.add(this.name, `disk fault fired: ${fired.spec.code} on ${fired.call.op} ${fired.call.path}`)
      // The supervisor restarts a process whose disk failed (a fail-stopped log stays failed until reopened).
      const delay = this.world.fork().int(50, 1_000)
      const boot = this.boot
      this.world.scheduler.task(this.world.scheduler.now + delay, async () => {
        if (this.boot === boot && this.up) this.restart('after a disk error')
      })
    }
  }

  /** The faults stop: nothing armed stays armed. */
  heal(): void {
    this.fs.disarm()
    if (this.armed) this.fs.crashAfterCalls(Number.POSITIVE_INFINITY)
    this.armed = false
  }
}
