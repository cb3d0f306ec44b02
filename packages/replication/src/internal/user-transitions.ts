// The transitions of a user's state on one home (PROTOCOL.md, "User states"), each one durable in the home's records
// before anyone acts on it: freeze and unfreeze (a move's source), take back (a frozen source whose lease expired
// and whose directory entry did not move), move away, reserve, activate and drop (a move's target). Callers hold
// the user's mutex, so no append or snapshot interleaves with a transition.

import type { LogPosition } from '../position.js'
import type { UserStatus } from '../user-status.js'
import type { TokenVerifier } from './auth.js'
import { durableOf, type HomeContext, markDurable, userLogDir } from './home-context.js'
import type { Reservation, StoredSnapshot, UserRecord, UserState } from './meta-store.js'

/** A user's state (records written before homing have none: active). */
export function stateOf(record: UserRecord): UserState {
  return record.state ?? 'active'
}

/** The record without the fields of a move (freeze, reserve), in `state`. */
function settled(record: UserRecord, state: UserState, extra: Partial<UserRecord> = {}): UserRecord {
  const { freeze: _f, reserve: _r, state: _s, ...rest } = record
  return { ...rest, ...extra, state }
}

/** Wakes the user's waiting tails (they look at the user's state again). */
export function wakeUserTails(ctx: HomeContext, user: string): void {
  const waiting = ctx.waiters.get(user)
  if (waiting === undefined) return
  ctx.waiters.delete(user)
  for (const wake of [...waiting]) wake()
}

/** The user's durable head here (null when no writer shipped anything yet). */
export async function durableHead(ctx: HomeContext, user: string, record: UserRecord): Promise<LogPosition | null> {
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  if (lease === undefined) return null
  try {
    return durableOf(ctx, lease.log)
  } finally {
    lease.release()
  }
}

/** active → frozen under `moveId`'s lease until `until`. */
export async function freeze(ctx: HomeContext, user: string, record: UserRecord, moveId: string, until: number) {
  await ctx.meta.putUser(user, { ...settled(record, 'frozen'), freeze: { moveId, until } })
}

/** frozen → active at `epoch` (the same after a mover's abort; +1 after the home took its user back). */
export async function unfreeze(ctx: HomeContext, user: string, record: UserRecord, epoch: number): Promise<void> {
  await ctx.meta.putUser(user, settled(record, 'active', { epoch }))
  wakeUserTails(ctx, user)
}

/** → moved: the directory names `home` at `epoch`. The copy here stays (read-only) for `movedRetentionMs`. */
export async function moveAway(
  ctx: HomeContext,
  user: string,
  record: UserRecord,
  home: string,
  epoch: number,
): Promise<void> {
  const movedTo = { home, epoch, at: ctx.clock.now(), copy: true }
  await ctx.meta.putUser(user, settled(record, 'moved', { movedTo }))
  await ctx.cache.drop(user)
  ctx.heads.delete(user)
  wakeUserTails(ctx, user)
}

/** → reserved: the target of a move, in a new log generation, with the source's token verifier; inactive. */
export async function reserve(
  ctx: HomeContext,
  user: string,
  previous: UserRecord | undefined,
  reservation: Omit<Reservation, 'previous' | 'since'> & { readonly epoch: number; readonly verifier: TokenVerifier },
): Promise<UserRecord> {
  const { epoch, verifier, ...rest } = reservation
  const before = previous?.state === 'reserved' ? (previous.reserve?.previous ?? null) : (previous ?? null)
  const generation = (previous?.generation ?? 0) + 1
  await emptyDir(ctx, userLogDir(ctx, user, generation))
  const record: UserRecord = {
    ...verifier,
    epoch,
    createdAt: previous?.createdAt ?? ctx.clock.now(),
    generation,
    superseded: previous === undefined ? [] : [...previous.superseded, previous.generation],
    snapshot: null,
    state: 'reserved',
    reserve: { ...rest, since: ctx.clock.now(), previous: before },
  }
  await ctx.cache.drop(user)
  await ctx.meta.putUser(user, record)
  return record
}

/** reserved → active: the directory names this home at the reserved epoch. */
export async function activate(
  ctx: HomeContext,
  user: string,
  record: UserRecord,
  snapshot: StoredSnapshot | null,
): Promise<void> {
  await ctx.meta.putUser(user, settled(record, 'active', { snapshot }))
  const lease = await ctx.cache.acquire(user, userLogDir(ctx, user, record.generation))
  if (lease !== undefined) {
    markDurable(ctx, user, lease.log)
    lease.release()
  }
  // A user that had moved away from here and came back: its old read-only copy is obsolete now. Deleted after the
  // activation, off the path writers wait on (a crash before it only leaves the files for the operator).
  const previous = record.reserve?.previous
  if (previous?.state === 'moved' && previous.movedTo?.copy) {
    void emptyDir(ctx, userLogDir(ctx, user, previous.generation)).catch(() => undefined)
  }
}

/** reserved → what the user was before the reservation (or no record): the move did not happen. */
export async function dropReservation(ctx: HomeContext, user: string, record: UserRecord): Promise<void> {
  const previous = record.reserve?.previous ?? null
  await ctx.cache.drop(user)
  if (previous === null) await ctx.meta.removeUser(user)
  else await ctx.meta.putUser(user, previous)
  await emptyDir(ctx, userLogDir(ctx, user, record.generation))
}

/** Deletes the files of a log directory (the directory itself stays, empty). */
export async function emptyDir(ctx: HomeContext, dir: string): Promise<void> {
  if ((await ctx.fs.size(dir)) === undefined) return
  for (const name of await ctx.fs.readdir(dir)) await ctx.fs.unlink(`${dir}/${name}`)
  await ctx.fs.syncDir(dir)
}

/** The state fields `homedb status` shows for a user (its state, where it moved, the move in flight here). */
export function statusFields(
  ctx: HomeContext,
  user: string,
  record: UserRecord,
): Pick<UserStatus, 'state' | 'movedTo' | 'move'> {
  const state = stateOf(record)
  const movedTo =
    record.movedTo === undefined ? {} : { movedTo: { home: record.movedTo.home, epoch: record.movedTo.epoch } }
  if (state === 'frozen' && record.freeze !== undefined) {
    return { state, ...movedTo, move: { id: record.freeze.moveId, role: 'source' } }
  }
  if (state === 'reserved' && record.reserve !== undefined) {
    const progress = ctx.homing?.jobs.get(user)?.progress()
    const copy =
      progress === undefined
        ? {}
        : { copiedBytes: progress.copiedBytes, head: progress.head, sourceHead: progress.sourceHead }
    return { state, move: { id: record.reserve.moveId, role: 'target', other: record.reserve.from, ...copy } }
  }
  return { state, ...movedTo }
}
