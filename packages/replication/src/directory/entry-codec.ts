// Directory entries as every backend stores and sends them (JSON), and the rules a change must follow, checked
// the same way by the embedded store, its HTTP client and the etcd backend: bad input is refused before anything
// is written.
import type { DirectoryEntry, DirectoryUpdate } from '../directory.js'
import { ReplicationConfigError, ReplicationRemoteError } from '../errors.js'
import { checkUserName } from '../internal/user-names.js'

const URL_TEXT = /^https?:\/\/[^\s/]+(\/[^\s]*)?$/
const MOVE_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * Checks a server's URL (an http(s) URL without spaces, at most 2 048 characters) and drops trailing slashes;
 * `what` names it in the error (`home` by default).
 */
export function checkHomeUrl(home: unknown, what = 'home'): string {
  if (typeof home !== 'string' || home.length > 2048 || !URL_TEXT.test(home)) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${what} must be an http(s) URL`, {
      [what]: typeof home === 'string' ? home.slice(0, 80) : typeof home,
    })
  }
  return home.replace(/\/+$/, '')
}

function checkEpoch(epoch: unknown, what: string): number {
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', `${what} must be a positive integer`, { [what]: epoch })
  }
  return epoch
}

/** Checks an update (home, epoch, state and move agree) and returns it normalised. */
export function checkUpdate(next: unknown): DirectoryUpdate {
  if (typeof next !== 'object' || next === null) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'an entry must be { home, homeEpoch, state, move? }')
  }
  const n = next as Record<string, unknown>
  const home = checkHomeUrl(n.home)
  const homeEpoch = checkEpoch(n.homeEpoch, 'homeEpoch')
  if (n.state === 'active') {
    if (n.move !== undefined) throw new ReplicationConfigError('REPLICATION_CONFIG', 'an active entry has no move')
    return { home, homeEpoch, state: 'active' }
  }
  if (n.state !== 'moving') throw new ReplicationConfigError('REPLICATION_CONFIG', "state must be 'active' or 'moving'")
  const move = n.move as Record<string, unknown> | undefined
  if (typeof move !== 'object' || move === null || typeof move.id !== 'string' || !MOVE_ID.test(move.id)) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'a moving entry has move { id, to, startedAt }')
  }
  const startedAt = move.startedAt
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'move.startedAt must be a number')
  }
  return { home, homeEpoch, state: 'moving', move: { id: move.id, to: checkHomeUrl(move.to), startedAt } }
}

/** Checks a compare-and-set's arguments: the epoch may stay (a state change) or grow by one (a switch). */
export function checkSwap(user: unknown, expectedEpoch: unknown, next: unknown): DirectoryUpdate {
  checkUserName(user)
  const expected = checkEpoch(expectedEpoch, 'expectedEpoch')
  const update = checkUpdate(next)
  if (update.homeEpoch !== expected && update.homeEpoch !== expected + 1) {
    throw new ReplicationConfigError(
      'REPLICATION_CONFIG',
      'next.homeEpoch must be expectedEpoch or expectedEpoch + 1',
      {
        expectedEpoch: expected,
        homeEpoch: update.homeEpoch,
      },
    )
  }
  return update
}

/** The entry for `user` with `update`. */
export function entryOf(user: string, update: DirectoryUpdate): DirectoryEntry {
  return update.move === undefined
    ? { user, home: update.home, homeEpoch: update.homeEpoch, state: update.state }
    : { user, home: update.home, homeEpoch: update.homeEpoch, state: update.state, move: update.move }
}

/** Parses an entry received from a directory (HTTP body, etcd value); throws REPLICATION_PROTOCOL if malformed. */
export function parseEntry(value: unknown, where: string): DirectoryEntry {
  try {
    const v = value as Record<string, unknown>
    return entryOf(checkUserName(v?.user), checkUpdate(v))
  } catch (cause) {
    throw new ReplicationRemoteError('REPLICATION_PROTOCOL', `${where} sent a malformed directory entry`, {}, { cause })
  }
}
