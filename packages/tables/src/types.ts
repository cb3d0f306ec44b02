// Shared public types of @homedb/tables: keys, readonly views of stored values, and the per-table change records
// that the commit event carries (the contract the reactive and replication layers build on).

/** A key of a keyed table (and a member of a lookupSet): a string or a finite number. */
export type Key = string | number

/** The six kinds of table. Recorded in every log operation (see FORMAT.md), so a kind change is detected at open. */
export type TableKind = 'single' | 'lookupTable' | 'list' | 'lookupList' | 'lookupSet' | 'lookupMap'

type Primitive = string | number | boolean | bigint | symbol | null | undefined

/**
 * The type of a stored value as the db hands it out: deeply readonly, because the db owns it (and, with the default
 * `freeze: true`, has frozen it). `Date` and `Uint8Array` keep their own types: they cannot be frozen (see README).
 */
export type DeepReadonly<T> = unknown extends T
  ? T
  : T extends Primitive
    ? T
    : T extends Date | Uint8Array
      ? T
      : T extends (...args: never[]) => unknown
        ? T
        : { readonly [P in keyof T]: DeepReadonly<T[P]> }

/** What a mutation accepts: the value type, or a readonly value read back from the db (re-inserting is fine). */
export type Insertable<V> = V | DeepReadonly<V>

/**
 * The function `update` takes: the current value in, the next value out. (Declared through a method so that a
 * table of a narrower value type stays assignable to a table of `unknown` values, as `AnyTable` needs.)
 */
export type Updater<V> = { bivarianceHack(current: DeepReadonly<V>): Insertable<V> }['bivarianceHack']

// ---- Change records, one union per table kind. `previous` is the value replaced or removed (the object itself). ----

/** A change to a `single` table. */
export type SingleChange<V> =
  | { readonly op: 'set'; readonly value: DeepReadonly<V>; readonly previous: DeepReadonly<V> | undefined }
  | { readonly op: 'clear'; readonly previous: DeepReadonly<V> }

/** A change to a `lookupTable`. `clear` hands out the whole previous map (no copy: the table got a new one). */
export type LookupTableChange<K extends Key, V> =
  | {
      readonly op: 'set'
      readonly key: K
      readonly value: DeepReadonly<V>
      readonly previous: DeepReadonly<V> | undefined
    }
  | { readonly op: 'remove'; readonly key: K; readonly previous: DeepReadonly<V> }
  | { readonly op: 'clear'; readonly previous: ReadonlyMap<K, DeepReadonly<V>> }

/** A change to a `list`. `pop` is recorded as `remove` of the last index. */
export type ListChange<V> =
  | { readonly op: 'push'; readonly index: number; readonly value: DeepReadonly<V> }
  | { readonly op: 'remove'; readonly index: number; readonly previous: DeepReadonly<V> }
  | { readonly op: 'clear'; readonly previous: readonly DeepReadonly<V>[] }

/**
 * A change to a `lookupList`. A `push` to a key that did not exist is preceded by a `createKey` for it.
 * `clearKey` removes the key with its list (`previous`).
 */
export type LookupListChange<K extends Key, V> =
  | { readonly op: 'push'; readonly key: K; readonly index: number; readonly value: DeepReadonly<V> }
  | { readonly op: 'remove'; readonly key: K; readonly index: number; readonly previous: DeepReadonly<V> }
  | { readonly op: 'createKey'; readonly key: K }
  | { readonly op: 'clearKey'; readonly key: K; readonly previous: readonly DeepReadonly<V>[] }
  | { readonly op: 'clear'; readonly previous: ReadonlyMap<K, readonly DeepReadonly<V>[]> }

/** A change to a `lookupSet`. An `insert` into a key that did not exist is preceded by a `createKey` for it. */
export type LookupSetChange<K extends Key, V extends Key> =
  | { readonly op: 'insert'; readonly key: K; readonly value: V }
  | { readonly op: 'remove'; readonly key: K; readonly value: V }
  | { readonly op: 'createKey'; readonly key: K }
  | { readonly op: 'clearKey'; readonly key: K; readonly previous: ReadonlySet<V> }
  | { readonly op: 'clear'; readonly previous: ReadonlyMap<K, ReadonlySet<V>> }

/** A change to a `lookupMap`. A `set` under a key that did not exist is preceded by a `createKey` for it. */
export type LookupMapChange<K extends Key, K2 extends Key, V> =
  | {
      readonly op: 'set'
      readonly key: K
      readonly key2: K2
      readonly value: DeepReadonly<V>
      readonly previous: DeepReadonly<V> | undefined
    }
  | { readonly op: 'remove'; readonly key: K; readonly key2: K2; readonly previous: DeepReadonly<V> }
  | { readonly op: 'createKey'; readonly key: K }
  | { readonly op: 'clearKey'; readonly key: K; readonly previous: ReadonlyMap<K2, DeepReadonly<V>> }
  | { readonly op: 'clear'; readonly previous: ReadonlyMap<K, ReadonlyMap<K2, DeepReadonly<V>>> }

/** Any table's change record (untyped view, for code that handles every table). */
export type TableChange =
  | SingleChange<unknown>
  | LookupTableChange<Key, unknown>
  | ListChange<unknown>
  | LookupListChange<Key, unknown>
  | LookupSetChange<Key, Key>
  | LookupMapChange<Key, Key, unknown>
