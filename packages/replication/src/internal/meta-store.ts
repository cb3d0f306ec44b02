// The home's own records, kept in a homedb database of its own (@homedb/tables under `<dataDir>/meta`), so they
// are crash-safe like any user's data: the server secret, each user's token hash, homeEpoch, current log
// generation and latest snapshot ETag, and the replicas' slots.
import type { FileLayer } from '@homedb/log'
import { type Db, lookupMap, lookupTable, openDb, schema, single } from '@homedb/tables'
import { ReplicationConfigError } from '../errors.js'
import type { LogPosition } from '../position.js'
import type { Random } from '../random.js'
import { checkToken, generateToken, TokenAuth, type TokenVerifier } from './auth.js'

/** What the home keeps per user. */
export interface UserRecord extends TokenVerifier {
  readonly epoch: number
  readonly createdAt: number
  /** The log directory in use is `users/<name>/log-<generation>`. */
  readonly generation: number
  /** Generations replaced by a snapshot installed as a new base; kept on disk for the operator. */
  readonly superseded: readonly number[]
  /** The latest snapshot stored for the current generation (so log info never reads the snapshot file). */
  readonly snapshot: StoredSnapshot | null
  /** Where a move stands for this user here (PROTOCOL.md, "User states"); absent means `active`. */
  readonly state?: UserState
  /** `frozen`: the move holding the freeze and when its lease ends (ms, the home's clock). */
  readonly freeze?: { readonly moveId: string; readonly until: number }
  /** `reserved`: the move copying the user here, from which home, and what the record was before. */
  readonly reserve?: Reservation
  /** `moved`: where the user lives now, and when it left (its copy here is deleted after `movedRetentionMs`). */
  readonly movedTo?: { readonly home: string; readonly epoch: number; readonly at: number; readonly copy: boolean }
}

/** A user's state on one home (PROTOCOL.md, "User states"). */
export type UserState = 'active' | 'reserved' | 'frozen' | 'moved'

/** A reservation: this home is the target of a move and receives the copy (inactive). */
export interface Reservation {
  readonly moveId: string
  /** The source home's URL. */
  readonly from: string
  /** The URL the directory will name this home by once the move switches. */
  readonly as: string
  readonly since: number
  /** The record this one replaced (a user that had moved away from here before), restored if the move aborts. */
  readonly previous: UserRecord | null
  /**
   * Set (durably) once the copy reached the source's frozen head and the mover was told so: from then on the mover
   * may switch the directory to this home at any moment, so no other move may take the reservation over.
   */
  readonly reached?: boolean
}

/** A snapshot the home stored, as log info reports it. */
export interface StoredSnapshot extends LogPosition {
  /** Payload bytes. */
  readonly bytes: number
  /** Content hash of the payload (xxh64 over the chunks in order), quoted as an HTTP ETag. */
  readonly etag: string
}

/** A replica's confirmed position. */
export interface SlotRecord extends LogPosition {
  readonly confirmedAt: number
}

const MetaSchema = schema({
  server: single<{ secret: string; createdAt: number }>(),
  users: lookupTable<string, UserRecord>(),
  slots: lookupMap<string, string, SlotRecord>(),
})

type MetaDb = Db<(typeof MetaSchema)['tables']>

export class MetaStore {
  private constructor(
    private readonly db: MetaDb,
    readonly auth: TokenAuth,
    private readonly random: Random,
  ) {}

  /** Opens the records; `tokenKey` (decoded) hashes new tokens instead of the home's own secret. */
  static async open(
    dir: string,
    fileLayer: FileLayer,
    random: Random,
    now: number,
    tokenKey?: Buffer,
  ): Promise<MetaStore> {
    // Small and written rarely: its files hold their data only, like the users' logs (README, "Storage").
    const db = await openDb(MetaSchema, { dir, fileLayer, durability: 'fsync', preallocate: false })
    let server = db.server.get()
    if (server === undefined) {
      db.server.insert({ secret: Buffer.from(random.bytes(32)).toString('hex'), createdAt: now })
      await db.sync()
      server = db.server.get()!
    }
    return new MetaStore(db, new TokenAuth(Buffer.from(server.secret, 'hex'), tokenKey, random), random)
  }

  /** The I/O error that stopped the records (fail-stop: every later write fails until the home restarts). */
  failure: Error | undefined

  /** Waits until every write so far is durable; remembers the failure if the records' log failed. */
  private async durable(): Promise<void> {
    try {
      await this.db.sync()
    } catch (error) {
      this.failure ??= error as Error
      throw error
    }
  }

  /** Constant-time check of `token` for `user`; a missing user costs the same as a wrong token. */
  authenticate(user: string, token: string | undefined): boolean {
    return this.auth.verify(this.db.users.get(user), token)
  }

  user(name: string): UserRecord | undefined {
    return this.db.users.get(name)
  }

  users(): Iterable<readonly [string, UserRecord]> {
    return this.db.users as Iterable<readonly [string, UserRecord]>
  }

  get userCount(): number {
    return this.db.users.size
  }

  /**
   * Refuses what `addUser` would refuse, changing nothing: a short token (`REPLICATION_CONFIG`), an existing name
   * (`REPLICATION_USER_EXISTS`), or a user past `maxUsers` (`REPLICATION_QUOTA`). A home with a directory checks
   * first, so the directory never names it for a user it then refuses.
   */
  checkNewUser(name: string, token: string | undefined, maxUsers: number): void {
    if (token !== undefined) checkToken(token, 'a token')
    if (this.db.users.has(name)) {
      throw new ReplicationConfigError('REPLICATION_USER_EXISTS', `user ${name} already exists`, { user: name })
    }
    if (this.db.users.size >= maxUsers) {
      throw new ReplicationConfigError('REPLICATION_QUOTA', `this home holds its quota of ${maxUsers} users`, {
        maxUsers,
      })
    }
  }

  /**
   * Adds a user with the caller's token or a generated one (returned). Durable when it resolves. Refuses what
   * {@link MetaStore.checkNewUser} refuses.
   */
  async addUser(name: string, token: string | undefined, now: number, maxUsers: number): Promise<string> {
    this.checkNewUser(name, token, maxUsers)
    const secret = token ?? generateToken(this.random)
    this.db.users.insert(name, {
      ...this.auth.verifier(secret),
      epoch: 1,
      createdAt: now,
      generation: 1,
      superseded: [],
      snapshot: null,
    })
    await this.durable()
    return secret
  }

  /**
   * Gives `name` a new token (the caller's or a generated one, returned); the old one is refused from the moment
   * this resolves. Rejects with `REPLICATION_NO_USER` for an unknown name.
   */
  async rotateToken(name: string, token: string | undefined): Promise<string> {
    if (token !== undefined) checkToken(token, 'a token')
    const record = this.db.users.get(name)
    if (record === undefined) {
      throw new ReplicationConfigError('REPLICATION_NO_USER', `no user ${name}`, { user: name })
    }
    const secret = token ?? generateToken(this.random)
    this.db.users.insert(name, { ...record, ...this.auth.verifier(secret) })
    await this.durable()
    return secret
  }

  /** Updates a user's record (durable when it resolves). */
  async updateUser(name: string, change: Partial<UserRecord>): Promise<void> {
    const record = this.db.users.get(name)
    if (record === undefined) return
    this.db.users.insert(name, { ...record, ...change })
    await this.durable()
  }

  /** Writes a whole record (a reservation copying a user here, a record restored). Durable when it resolves. */
  async putUser(name: string, record: UserRecord): Promise<void> {
    this.db.users.insert(name, record)
    await this.durable()
  }

  /** Removes a user's record (an abandoned reservation of a user that was never here). Durable when it resolves. */
  async removeUser(name: string): Promise<void> {
    this.db.users.remove(name)
    this.db.slots.clearKey(name)
    await this.durable()
  }

  slots(user: string): ReadonlyMap<string, SlotRecord> {
    return (this.db.slots.get(user) as ReadonlyMap<string, SlotRecord> | undefined) ?? new Map()
  }

  /** Records a slot position. Not awaited: a slot lost in a crash only makes the home keep less for a while. */
  confirmSlot(user: string, slot: string, record: SlotRecord): void {
    this.db.slots.insert(user, slot, record)
  }

  dropSlot(user: string, slot: string): void {
    this.db.slots.remove(user, slot)
  }

  close(): Promise<void> {
    return this.db.close()
  }
}
