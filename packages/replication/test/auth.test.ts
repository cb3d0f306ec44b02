// Tokens and the checks behind them: what a token may be, that a shared tokenKey makes a hash valid on every home
// of a deployment, and that "no such user" and "wrong token" cost exactly the same work and get the same bytes
// back (the equal-time claim is proven structurally here; bench/scripts/hostile-flood.ts measures the times).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cryptoRandom, HomeService } from '../src/index.js'
import { checkToken, decodeTokenKey, generateToken, TokenAuth } from '../src/internal/auth.js'
import { tempDir } from './support/temp-dir.js'

const next = tempDir()
const key = () => randomBytes(32)

/** A TokenAuth that records every HMAC and comparison it makes, with the sizes of their inputs. */
class CountingAuth extends TokenAuth {
  readonly ops: string[] = []
  protected override mac(k: Buffer, text: string): Buffer {
    this.ops.push(`mac(key ${k.byteLength}, text ${Buffer.byteLength(text)})`)
    return super.mac(k, text)
  }
  protected override compare(a: Buffer, b: Buffer): boolean {
    this.ops.push(`compare(${a.byteLength}, ${b.byteLength})`)
    return super.compare(a, b)
  }
}

describe('tokens', () => {
  it('generates 32 random bytes as 43 base64url characters, different every time', () => {
    const a = generateToken(cryptoRandom)
    const b = generateToken(cryptoRandom)
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(a, 'base64url').byteLength).toBe(32)
    expect(a).not.toBe(b)
  })

  it.each([
    ['15 characters', 'x'.repeat(15)],
    ['1 025 characters', 'x'.repeat(1025)],
    ['a space', 'sixteen chars ok'],
    ['non-ASCII', 'tøken-0123456789'],
    ['not a string', 1234567890123456],
  ])('refuses a caller-chosen token of %s with REPLICATION_CONFIG', (_, token) => {
    expect(() => checkToken(token, 'a token')).toThrow(expect.objectContaining({ code: 'REPLICATION_CONFIG' }))
  })

  it('accepts a caller-chosen token of 16 visible ASCII characters', () => {
    expect(checkToken('0123456789abcdef', 'a token')).toBe('0123456789abcdef')
  })

  it('refuses a tokenKey shorter than 32 bytes or not base64url', () => {
    expect(() => decodeTokenKey(randomBytes(31).toString('base64url'))).toThrow(/tokenKey/)
    expect(() => decodeTokenKey(`${randomBytes(32).toString('base64')}+/`)).toThrow(/tokenKey/)
    expect(decodeTokenKey(randomBytes(32).toString('base64url')).byteLength).toBe(32)
  })

  it('makes a hash under a shared key that another home with the same key verifies, and no other home', () => {
    const shared = key()
    const a = new TokenAuth(key(), shared, cryptoRandom)
    const b = new TokenAuth(key(), shared, cryptoRandom)
    const other = new TokenAuth(key(), key(), cryptoRandom)
    const stored = a.verifier('alice-token-for-tests')
    expect(b.verify(stored, 'alice-token-for-tests')).toBe(true)
    expect(b.verify(stored, 'alice-token-for-test!')).toBe(false)
    expect(other.verify(stored, 'alice-token-for-tests')).toBe(false)
  })

  it('still verifies hashes made with the home’s own secret after a shared key is configured', () => {
    const local = key()
    const before = new TokenAuth(local, undefined, cryptoRandom)
    const stored = before.verifier('alice-token-for-tests')
    const { keyId: _, ...legacy } = stored // records written before keys had ids
    const after = new TokenAuth(local, key(), cryptoRandom)
    expect(after.verify(stored, 'alice-token-for-tests')).toBe(true)
    expect(after.verify(legacy, 'alice-token-for-tests')).toBe(true)
    expect(after.verifier('x'.repeat(16)).keyId).not.toBe(stored.keyId)
  })

  it('does the same work for no such user, a wrong token, a right token, no token and an overlong token', () => {
    const auth = new CountingAuth(key(), key(), cryptoRandom)
    const stored = auth.verifier('alice-token-for-tests')
    const work = (stored_: Parameters<TokenAuth['verify']>[0], token: string | undefined) => {
      auth.ops.length = 0
      const ok = auth.verify(stored_, token)
      return { ok, ops: [...auth.ops] }
    }
    const missing = work(undefined, 'alice-token-for-tests')
    const wrong = work(stored, 'alice-token-for-test!')
    const right = work(stored, 'alice-token-for-tests')
    const unknownKey = work({ tokenHash: stored.tokenHash, keyId: '0123456789abcdef' }, 'alice-token-for-tests')
    expect([missing.ok, wrong.ok, right.ok, unknownKey.ok]).toEqual([false, false, true, false])
    expect(missing.ops).toEqual(['mac(key 32, text 21)', 'compare(32, 32)'])
    expect(wrong.ops).toEqual(missing.ops)
    expect(right.ops).toEqual(missing.ops)
    expect(unknownKey.ops).toEqual(missing.ops)
    // No token and an overlong one hash the empty string: one HMAC and one compare as well.
    expect(work(stored, undefined).ops).toEqual(['mac(key 32, text 0)', 'compare(32, 32)'])
    expect(work(undefined, 'x'.repeat(5000))).toEqual({ ok: false, ops: ['mac(key 32, text 0)', 'compare(32, 32)'] })
  })
})

describe('unknown users and wrong tokens over the protocol', () => {
  let home: HomeService
  beforeAll(async () => {
    home = await HomeService.open({ dataDir: next(), tokenKey: key().toString('base64url') })
    await home.addUser('alice', { token: 'alice-token-for-tests' })
  })
  afterAll(() => home.close())

  const ask = async (user: string, token: string) => {
    const answer = await home.handle({
      method: 'GET',
      path: `/v1/users/${user}/log`,
      query: {},
      headers: { authorization: `Bearer ${token}` },
      body: new Uint8Array(),
      signal: new AbortController().signal,
    })
    return { status: answer.status, headers: answer.headers, body: Buffer.from(answer.body as Uint8Array).toString() }
  }

  it('gives byte-identical answers to a wrong token and a user that does not exist', async () => {
    const wrong = await ask('alice', 'bob-token-for-tests!!')
    const missing = await ask('bob', 'bob-token-for-tests!!')
    expect(wrong.status).toBe(401)
    expect(missing).toEqual(wrong)
    expect(JSON.parse(wrong.body)).toEqual({ error: { code: 'unauthorized', message: 'unknown user or wrong token' } })
  })

  it('refuses to start with an admin token shorter than 16 characters', async () => {
    await expect(HomeService.open({ dataDir: next(), adminToken: 'short' })).rejects.toMatchObject({
      code: 'REPLICATION_CONFIG',
    })
  })
})
