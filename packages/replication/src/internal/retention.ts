// Retention by acknowledgement: each replica slot is a retention hold on the user's log at the position it
// confirmed, so the home keeps the latest snapshot and the commits after the oldest confirmed position. Slots that
// were not confirmed for `maxSlotAgeMs`, or that would keep more than `maxSlotLagBytes` of commits, are dropped
// when the next snapshot is stored; their replica then gets `need-snapshot`, never a silent gap. A user has at most
// `maxSlotsPerUser` slots, so abandoned ones cannot pile up or make each snapshot slow to store.
import type { Log } from '@homedb/log'
import type { HomeContext } from './home-context.js'

const holdName = (slot: string): string => `slot:${slot}`

/** Applies every recorded slot of `user` as a hold on its freshly opened log. */
export function applyHolds(ctx: HomeContext, user: string, log: Log): void {
  for (const [slot, record] of ctx.meta.slots(user)) {
    if (record.logId === log.logId) log.hold(holdName(slot), record.seq)
  }
}

/**
 * Records a replica's confirmed position and holds the log there. A new slot past `maxSlotsPerUser` replaces the
 * one confirmed least recently, so slots that are registered and abandoned cannot pile up.
 */
export function confirmSlot(ctx: HomeContext, user: string, slot: string, log: Log, seq: number, chain: string): void {
  const slots = ctx.meta.slots(user)
  if (!slots.has(slot) && slots.size >= ctx.options.limits.maxSlotsPerUser) {
    let oldest: [string, number] | undefined
    for (const [name, record] of slots) {
      if (oldest === undefined || record.confirmedAt < oldest[1]) oldest = [name, record.confirmedAt]
    }
    if (oldest !== undefined) dropSlot(ctx, user, oldest[0], log)
  }
  ctx.meta.confirmSlot(user, slot, { logId: log.logId, seq, chain, confirmedAt: ctx.clock.now() })
  log.hold(holdName(slot), seq)
}

export function dropSlot(ctx: HomeContext, user: string, slot: string, log: Log | undefined): void {
  ctx.meta.dropSlot(user, slot)
  log?.release(holdName(slot))
}

/**
 * Bytes of commits after `seq`, counted until `cap` is passed (so the cost is bounded by the cap). A position the
 * log no longer holds counts as past the cap: such a slot cannot be served from the log anyway, and its hold would
 * keep everything after the log's start.
 */
async function bytesAfter(log: Log, seq: number, cap: number): Promise<number> {
  if (seq < log.start.seq) return Number.POSITIVE_INFINITY
  let bytes = 0
  try {
    for await (const c of log.readEncoded({ from: seq })) {
      bytes += c.frame.byteLength
      if (bytes > cap) break
    }
  } catch {
    return Number.POSITIVE_INFINITY // released meanwhile
  }
  return bytes
}

/**
 * Before a snapshot is stored: drops the slots past the age or size cap, so the snapshot releases what they held.
 * Returns the names of the slots dropped.
 */
export async function enforceCaps(ctx: HomeContext, user: string, log: Log): Promise<string[]> {
  const dropped: string[] = []
  const now = ctx.clock.now()
  for (const [slot, record] of ctx.meta.slots(user)) {
    const stale = record.logId !== log.logId || now - record.confirmedAt > ctx.options.maxSlotAgeMs
    const tooFar =
      !stale && (await bytesAfter(log, record.seq, ctx.options.maxSlotLagBytes)) > ctx.options.maxSlotLagBytes
    if (stale || tooFar) {
      dropSlot(ctx, user, slot, log)
      dropped.push(slot)
    }
  }
  return dropped
}
