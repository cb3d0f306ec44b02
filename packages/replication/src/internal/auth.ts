// Tokens and how the home checks them. A token is stored only as HMAC-SHA256 under a key: the deployment's shared
// `tokenKey` when one is given (so a user moved to another home keeps its token), else the home's own secret.
// Every check does the same work whatever the outcome — one HMAC over the presented token and one constant-time
// compare of 32 bytes, against a dummy verifier when there is no user or its key is unknown — so "no such user"
// and "wrong token" cannot be told apart by their answer or their time (PROTOCOL.md, "Auth").
import { createHmac, timingSafeEqual } from 'node:crypto'
import { ReplicationConfigError } from '../errors.js'
import type { Random } from '../random.js'

/** Shortest caller-chosen token and admin token. */
export const MIN_TOKEN_CHARS = 16
/** Longest token accepted anywhere (longer bearer credentials are refused without hashing them). */
export const MAX_TOKEN_CHARS = 1024
/** Bytes of a `tokenKey` at least. */
export const MIN_TOKEN_KEY_BYTES = 32

const TOKEN_TEXT = /^[\x21-\x7e]+$/
const KEY_TEXT = /^[A-Za-z0-9_-]+$/

/** A token's stored form: its keyed hash and the id of the key it was made with. */
export interface TokenVerifier {
  /** HMAC-SHA256 of the token, hex. */
  readonly tokenHash: string
  /** Id of the key (a fingerprint); absent in records written before keys had ids: the home's own secret. */
  readonly keyId?: string
}

/** Throws REPLICATION_CONFIG unless `token` is 16 to 1024 visible ASCII characters. */
export function checkToken(token: unknown, what: string): string {
  if (
    typeof token !== 'string' ||
    token.length < MIN_TOKEN_CHARS ||
    token.length > MAX_TOKEN_CHARS ||
    !TOKEN_TEXT.test(token)
  ) {
    throw new ReplicationConfigError(
      'REPLICATION_CONFIG',
      `${what} must be ${MIN_TOKEN_CHARS} to ${MAX_TOKEN_CHARS} visible ASCII characters`,
      { length: typeof token === 'string' ? token.length : typeof token },
    )
  }
  return token
}

/** Decodes a `tokenKey` (base64url of at least 32 bytes); throws REPLICATION_CONFIG otherwise. */
export function decodeTokenKey(text: unknown): Buffer {
  const key = typeof text === 'string' && KEY_TEXT.test(text) ? Buffer.from(text, 'base64url') : undefined
  if (key === undefined || key.byteLength < MIN_TOKEN_KEY_BYTES) {
    throw new ReplicationConfigError(
      'REPLICATION_CONFIG',
      `tokenKey must be base64url of at least ${MIN_TOKEN_KEY_BYTES} random bytes (e.g. openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')`,
    )
  }
  return key
}

/** A fresh high-entropy token: 32 random bytes, base64url (43 characters). */
export function generateToken(random: Random): string {
  return Buffer.from(random.bytes(32)).toString('base64url')
}

function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('homedb token key id').digest('hex').slice(0, 16)
}

/** Hashes and verifies tokens under the home's keys. */
export class TokenAuth {
  private readonly keys = new Map<string, Buffer>()
  private readonly currentId: string
  private readonly localId: string
  private readonly dummy: string

  /**
   * `local`: the home's own secret (hashes in records without a key id were made with it); `shared`: the
   * deployment's `tokenKey`, used for every new hash when given.
   */
  constructor(local: Buffer, shared: Buffer | undefined, random: Random) {
    this.localId = keyIdOf(local)
    this.keys.set(this.localId, local)
    const current = shared ?? local
    this.currentId = keyIdOf(current)
    this.keys.set(this.currentId, current)
    this.dummy = Buffer.from(random.bytes(32)).toString('hex')
  }

  /** The stored form of `token` under the current key. */
  verifier(token: string): TokenVerifier {
    return { tokenHash: this.mac(this.keys.get(this.currentId)!, token).toString('hex'), keyId: this.currentId }
  }

  /**
   * Whether `token` matches `stored`. The same work in every case: one HMAC of the presented token (or of the
   * empty string when none was given or it is too long), one constant-time compare of 32 bytes.
   */
  verify(stored: TokenVerifier | undefined, token: string | undefined): boolean {
    const key = stored === undefined ? undefined : this.keys.get(stored.keyId ?? this.localId)
    const expected = Buffer.from(key === undefined ? this.dummy : stored!.tokenHash, 'hex')
    const usable = token !== undefined && token.length <= MAX_TOKEN_CHARS
    const given = this.mac(key ?? this.keys.get(this.currentId)!, usable ? token : '')
    return this.compare(expected, given) && key !== undefined && usable
  }

  /** Constant-time equality of two secrets of any length (both are hashed first). */
  same(a: string, b: string): boolean {
    const key = this.keys.get(this.currentId)!
    return this.compare(this.mac(key, a), this.mac(key, b))
  }

  /** HMAC-SHA256 of `text` under `key` (protected: a test counts the work each check does). */
  protected mac(key: Buffer, text: string): Buffer {
    return createHmac('sha256', key).update(text, 'utf8').digest()
  }

  /** Constant-time comparison (a stored hash of another length compares as different, in the same time). */
  protected compare(a: Buffer, b: Buffer): boolean {
    return timingSafeEqual(a.byteLength === b.byteLength ? a : b, b) && a.byteLength === b.byteLength
  }
}
