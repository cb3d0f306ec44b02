// The per-table change records: what one operation changed, with old and new values. The commit event carries them
// grouped by table (see commit-event.ts); they are the contract the reactive and replication layers build on.
import type { Key } from './key.js'
import type { DeepReadonly } from './stored-value.js'

// Change records, one union per table kind. `previous` is the value replaced or removed (the object itself).

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
