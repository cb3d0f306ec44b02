// openDirectory: a client of the directory a `directory` option names (the embedded server's HTTP client, etcd, or
// a Directory object as is). Kept apart from the Directory types (directory.ts) that the clients implement, so the
// clients never import the module that builds them.

import { EtcdDirectory } from './directory/etcd-directory.js'
import { HttpDirectory } from './directory/http-directory.js'
import type { Directory, DirectoryOption, OpenDirectoryOptions } from './directory.js'
import { ReplicationConfigError } from './errors.js'

/**
 * Opens a client of the directory `option` names. A Directory object is returned as is (its owner closes it).
 *
 * @example
 * ```ts check
 * const embedded = openDirectory('http://127.0.0.1:7000', { adminToken })
 * const etcd = openDirectory({ etcd: { hosts: ['127.0.0.1:2379'] } })
 * ```
 */
export function openDirectory(option: DirectoryOption, options: OpenDirectoryOptions = {}): Directory {
  if (typeof option === 'string') return new HttpDirectory({ url: option, ...options })
  if (typeof option !== 'object' || option === null) throw badOption()
  if ('etcd' in option) return new EtcdDirectory(option.etcd)
  if ('url' in option && typeof option.url === 'string') {
    const lookupToken = option.lookupToken ?? options.lookupToken
    return new HttpDirectory({ ...options, url: option.url, ...(lookupToken === undefined ? {} : { lookupToken }) })
  }
  if (typeof (option as Directory).lookup === 'function' && typeof (option as Directory).tokenKey === 'function') {
    return option as Directory
  }
  throw badOption()
}

/** Whether `openDirectory(option)` returned an object its caller owns (and must close). */
export function ownsDirectory(option: DirectoryOption): boolean {
  return (
    typeof option === 'string' ||
    (typeof option === 'object' && option !== null && ('etcd' in option || 'url' in option))
  )
}

function badOption(): ReplicationConfigError {
  return new ReplicationConfigError(
    'REPLICATION_CONFIG',
    'directory must be a URL, { url, lookupToken? }, { etcd: { hosts } } or a Directory',
  )
}
