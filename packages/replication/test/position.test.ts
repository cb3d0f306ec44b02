// How a log answers a node that wants to resume from a position: same, behind, ahead, diverged, need-snapshot,
// incompatible; and untrusted positions rejected with a typed error.
import { openLog } from '@homedb/log'
import { describe, expect, it } from 'vitest'
import { BadPositionError, headPosition, parsePosition, relatePosition } from '../src/index.js'

const bytes = (t: string) => new TextEncoder().encode(t)

async function logWith(n: number, prefix = 'c') {
  const log = await openLog(undefined, { durability: 'memory' })
  for (let i = 1; i <= n; i++) log.append(bytes(`${prefix}${i}`))
  return log
}

describe('relatePosition', () => {
  it('tells same, behind and ahead apart on one history', async () => {
    const log = await logWith(10)
    const at5 = { ...headPosition(await logWith(5)), logId: log.logId }
    expect(await relatePosition(log, headPosition(log))).toBe('same')
    expect(await relatePosition(log, at5)).toBe('behind')
    expect(await relatePosition(log, { logId: log.logId, seq: 0, chain: '0000000000000000' })).toBe('behind')
    expect(await relatePosition(log, { ...headPosition(log), seq: 11 })).toBe('ahead')
  })

  it('detects a fork at the same seq, at the head and in the middle', async () => {
    const log = await logWith(10)
    const other = await logWith(10, 'x')
    expect(await relatePosition(log, { ...headPosition(other), logId: log.logId })).toBe('diverged')
    const fork5 = await logWith(5, 'x')
    expect(await relatePosition(log, { ...headPosition(fork5), logId: log.logId })).toBe('diverged')
  })

  it('asks for the snapshot when the commits after the position were released', async () => {
    const log = await logWith(10)
    await log.snapshot(bytes('state'))
    expect(log.start.seq).toBe(10)
    const at3 = { ...headPosition(await logWith(3)), logId: log.logId }
    expect(await relatePosition(log, at3)).toBe('need-snapshot')
    expect(await relatePosition(log, headPosition(log))).toBe('same')
  })

  it('says incompatible for another log', async () => {
    const log = await logWith(3)
    const other = await logWith(3)
    expect(await relatePosition(log, headPosition(other))).toBe('incompatible')
  })
})

describe('parsePosition', () => {
  it('accepts a well-formed position', () => {
    const p = { logId: 'ab'.repeat(16), seq: 7, chain: '0123456789abcdef' }
    expect(parsePosition(p)).toEqual(p)
  })

  it.each([
    null,
    'pos',
    { logId: 'AB'.repeat(16), seq: 1, chain: '0123456789abcdef' },
    { logId: 'ab'.repeat(16), seq: -1, chain: '0123456789abcdef' },
    { logId: 'ab'.repeat(16), seq: 1.5, chain: '0123456789abcdef' },
    { logId: 'ab'.repeat(16), seq: 1, chain: '0123' },
  ])('rejects %j with REPLICATION_BAD_POSITION', (value) => {
    expect(() => parsePosition(value)).toThrow(BadPositionError)
    try {
      parsePosition(value)
    } catch (error) {
      expect((error as BadPositionError).code).toBe('REPLICATION_BAD_POSITION')
    }
  })
})
