// Type tests: every stream carries the user's own key and value types, and keyState accepts only keyed tables.
import { list, lookupMap, lookupTable, openDb, schema, single } from '@homedb/tables'
import type { Observable } from 'rxjs'
import { describe, expectTypeOf, it } from 'vitest'
import { changes, keyState, state } from '../src/index.js'

interface Meta {
  name: string
}
const Core = schema({
  account: single<{ user: string }>(),
  metadata: lookupTable<string, Meta>(),
  events: list<number>(),
  shares: lookupMap<string, number, Meta>(),
})
const db = await openDb(Core)

describe('stream types', () => {
  it('types changes with the table’s keys and values', () => {
    changes(db.metadata).subscribe(({ changes }) => {
      for (const c of changes) {
        if (c.op === 'set') {
          expectTypeOf(c.key).toEqualTypeOf<string>()
          expectTypeOf(c.value).toEqualTypeOf<{ readonly name: string }>()
        }
      }
    })
  })

  it('types state data per table kind', () => {
    state(db.account).subscribe(({ data }) => expectTypeOf(data).toEqualTypeOf<{ readonly user: string } | undefined>())
    state(db.events).subscribe(({ data }) => expectTypeOf(data).toEqualTypeOf<readonly number[]>())
  })

  it('types keyState by key and value, and refuses tables without keys', () => {
    expectTypeOf(keyState(db.metadata, 'id')).toEqualTypeOf<Observable<{ readonly name: string } | undefined>>()
    expectTypeOf(keyState(db.shares, 'f')).toEqualTypeOf<
      Observable<ReadonlyMap<number, { readonly name: string }> | undefined>
    >()
    // @ts-expect-error the key of metadata is a string
    keyState(db.metadata, 1)
    // @ts-expect-error a list has no keys
    keyState(db.events, 0)
  })
})
