// User names become directory names under the home's data dir, so they are checked before anything else:
// lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters.
import { ReplicationConfigError } from '../errors.js'

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/

/** True if `name` is a valid user name (see PROTOCOL.md, "User names"). */
export function isUserName(name: unknown): name is string {
  return typeof name === 'string' && USER_NAME.test(name)
}

/** Throws `REPLICATION_BAD_USER` unless `name` is a valid user name. */
export function checkUserName(name: unknown): string {
  if (!isUserName(name)) {
    throw new ReplicationConfigError(
      'REPLICATION_BAD_USER',
      'a user name is 1 to 63 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
      { name: typeof name === 'string' ? name.slice(0, 80) : typeof name },
    )
  }
  return name
}
