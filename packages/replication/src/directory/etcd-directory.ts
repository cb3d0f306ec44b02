// The directory on etcd, for deployments that outgrow one machine: etcd (a linearizable, replicated store) does the
// compare-and-set and the watching. One key per user (`<prefix>users/<user>`, the entry as JSON); a change is an
// etcd transaction that compares the key's mod revision with the one read (or its create revision with 0 for a new
// key), so two writers can never both win. The deployment's token key is one key created only if absent.
// The `etcd3` client is an optional peer dependency, loaded on first use.
import type { Etcd3, IOptions } from 'etcd3'
import type {
  Directory,
  DirectoryChange,
  DirectoryEntry,
  DirectoryUpdate,
  DirectoryWatchOptions,
  EtcdDirectoryOptions,
} from '../directory.js'
import { ReplicationConfigError } from '../errors.js'
import { DirectoryError } from '../homing-errors.js'
import { checkUserName } from '../internal/user-names.js'
import { cryptoRandom } from '../random.js'
import { checkHomeUrl, checkSwap, entryOf, parseEntry } from './entry-codec.js'

interface KeyValue {
  readonly value: Buffer
  readonly mod_revision: string
}

async function loadEtcd(): Promise<typeof import('etcd3')> {
  try {
    return await import('etcd3')
  } catch (cause) {
    throw new ReplicationConfigError(
      'REPLICATION_CONFIG',
      'the etcd directory needs the etcd3 package: npm install etcd3',
      {
        cause: (cause as Error)?.message,
      },
    )
  }
}

function checkOptions(options: EtcdDirectoryOptions): void {
  if (
    typeof options !== 'object' ||
    options === null ||
    !Array.isArray(options.hosts) ||
    options.hosts.length === 0 ||
    !options.hosts.every((h) => typeof h === 'string' && h !== '')
  ) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'etcd needs { hosts: ["host:port", …] }')
  }
  if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) {
    throw new ReplicationConfigError('REPLICATION_CONFIG', 'etcd.prefix must be a non-empty string')
  }
}

export class EtcdDirectory implements Directory {
  private readonly prefix: string
  private client: Promise<Etcd3> | undefined
  private readonly stops = new Set<() => void>()
  private closed = false

  constructor(private readonly options: EtcdDirectoryOptions) {
    checkOptions(options)
    this.prefix = options.prefix ?? 'homedb/'
  }

  private connect(): Promise<Etcd3> {
    this.client ??= loadEtcd().then(({ Etcd3 }) => {
      const timeoutMs = this.options.timeoutMs ?? 2_000
      const settings: IOptions = {
        hosts: this.options.hosts.map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`)),
        dialTimeout: timeoutMs,
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      }
      return new Etcd3(settings)
    })
    return this.client
  }

  private key(user: string): string {
    return `${this.prefix}users/${user}`
  }

  /** Runs an etcd call; its failures become REPLICATION_DIRECTORY errors. */
  private async run<T>(what: string, call: (client: Etcd3) => Promise<T>): Promise<T> {
    if (this.closed) throw new DirectoryError('REPLICATION_DIRECTORY', 'the directory client is closed')
    try {
      return await call(await this.connect())
    } catch (cause) {
      if (cause instanceof ReplicationConfigError) throw cause
      throw new DirectoryError(
        'REPLICATION_DIRECTORY',
        `etcd did not answer ${what}: ${(cause as Error)?.message}`,
        { hosts: this.options.hosts },
        { cause },
      )
    }
  }

  private async read(user: string): Promise<KeyValue | undefined> {
    const response = await this.run('a lookup', (c) => c.get(this.key(user)).exec())
    return response.kvs[0] as KeyValue | undefined
  }

  async lookup(user: string): Promise<DirectoryEntry | undefined> {
    checkUserName(user)
    const kv = await this.read(user)
    return kv === undefined ? undefined : this.parse(kv)
  }

  private parse(kv: KeyValue): DirectoryEntry {
    let value: unknown
    try {
      value = JSON.parse(kv.value.toString('utf8'))
    } catch {
      value = undefined
    }
    return parseEntry(value, 'etcd')
  }

  async register(user: string, home: string): Promise<DirectoryChange> {
    checkUserName(user)
    const entry = entryOf(user, { home: checkHomeUrl(home), homeEpoch: 1, state: 'active' })
    const key = this.key(user)
    const result = await this.run('a register', (c) =>
      c
        .if(key, 'Create', '==', 0)
        .then(c.put(key).value(JSON.stringify(entry)))
        .else(c.get(key))
        .commit(),
    )
    if (result.succeeded) return { ok: true, entry }
    return { ok: false, current: this.fromResponse(result.responses[0]) }
  }

  private fromResponse(op: { response_range?: { kvs: unknown[] } } | undefined): DirectoryEntry | undefined {
    const kv = op?.response_range?.kvs[0] as KeyValue | undefined
    return kv === undefined ? undefined : this.parse(kv)
  }

  async compareAndSet(user: string, expectedEpoch: number, next: DirectoryUpdate): Promise<DirectoryChange> {
    const update = checkSwap(user, expectedEpoch, next)
    const kv = await this.read(user)
    const current = kv === undefined ? undefined : this.parse(kv)
    if (kv === undefined || current === undefined || current.homeEpoch !== expectedEpoch) return { ok: false, current }
    const entry = entryOf(user, update)
    const key = this.key(user)
    const result = await this.run('a compare-and-set', (c) =>
      c
        .if(key, 'Mod', '==', kv.mod_revision)
        .then(c.put(key).value(JSON.stringify(entry)))
        .else(c.get(key))
        .commit(),
    )
    if (result.succeeded) return { ok: true, entry }
    return { ok: false, current: this.fromResponse(result.responses[0]) }
  }

  async list(): Promise<DirectoryEntry[]> {
    const all = await this.run('a list', (c) => c.getAll().prefix(`${this.prefix}users/`).buffers())
    return Object.values(all).map((value) => this.parse({ value, mod_revision: '0' }))
  }

  watch(listener: (entry: DirectoryEntry) => void, options: DirectoryWatchOptions = {}): () => void {
    let stopped = false
    let cancel: (() => void) | undefined
    const stop = () => {
      stopped = true
      cancel?.()
    }
    this.stops.add(stop)
    void this.run('a watch', (c) => c.watch().prefix(`${this.prefix}users/`).create()).then(
      (watcher) => {
        cancel = () => void watcher.cancel().catch(() => undefined)
        if (stopped) return cancel()
        watcher.on('put', (kv) => {
          try {
            listener(this.parse(kv as KeyValue))
          } catch (error) {
            options.onError?.(error)
          }
        })
        watcher.on('error', (error) => options.onError?.(error))
      },
      (error: unknown) => options.onError?.(error),
    )
    return () => {
      this.stops.delete(stop)
      stop()
    }
  }

  async tokenKey(): Promise<string> {
    const key = `${this.prefix}token-key`
    const fresh = Buffer.from(cryptoRandom.bytes(32)).toString('base64url')
    const result = await this.run('the token key', (c) =>
      c.if(key, 'Create', '==', 0).then(c.put(key).value(fresh)).else(c.get(key)).commit(),
    )
    if (result.succeeded) return fresh
    const kv = result.responses[0]?.response_range?.kvs[0]
    if (kv === undefined) throw new DirectoryError('REPLICATION_DIRECTORY', 'etcd lost the token key')
    return kv.value.toString('utf8')
  }

  async close(): Promise<void> {
    this.closed = true
    for (const stop of [...this.stops]) stop()
    this.stops.clear()
    const client = await this.client?.catch(() => undefined)
    client?.close()
  }
}
