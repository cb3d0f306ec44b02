// Pins the bytes FORMAT.md documents: a change here is a format change.
import { describe, expect, it } from 'vitest'
import { list, lookupTable, openDb, schema } from '../src/index.js'
import { PACKR_OPTIONS } from '../src/internal/codec.js'
import { coreOf } from '../src/internal/db-core.js'

async function payloads(db: object): Promise<string[]> {
  const out: string[] = []
  for await (const c of coreOf(db).log.read()) out.push(Buffer.from(c.payload).toString('hex'))
  return out
}

describe('commit payload format', () => {
  it('writes the example of FORMAT.md byte for byte', async () => {
    const db = await openDb(schema({ metadata: lookupTable<string, { size: number }>(), events: list<number>() }))
    db.events.push(1)
    db.events.push(2)
    db.events.push(3)
    await db.transaction(() => {
      db.metadata.insert('a', { size: 1 })
      db.events.pop()
    })
    const all = await payloads(db)
    // [['events', 30, 1]]
    expect(all[0]).toBe('91' + '93' + 'a66576656e7473' + '1e' + '01')
    // [['metadata', 20, 'a', { size: 1 }], ['events', 31, 2]]
    expect(all[3]).toBe(
      '92' + '94' + 'a86d65746164617461' + '14' + 'a161' + '81a473697a6501' + '93' + 'a66576656e7473' + '1f' + '02',
    )
  })

  it('pins the msgpackr options', () => {
    expect(PACKR_OPTIONS).toEqual({
      useRecords: false,
      sequential: false,
      variableMapSize: true,
      moreTypes: false,
      structuredClone: false,
      useFloat32: 0,
      int64AsType: 'bigint',
      useBigIntExtension: false,
      largeBigIntToFloat: false,
      encodeUndefinedAsNil: false,
      mapsAsObjects: true,
      copyBuffers: true,
      bundleStrings: false,
    })
  })
})
