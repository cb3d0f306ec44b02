// Public types of @homedb/reactive: what each stream emits, typed from the user's own table types.
import type {
  AnyTable,
  DeepReadonly,
  Key,
  ListChange,
  ListTable,
  LookupList,
  LookupListChange,
  LookupMap,
  LookupMapChange,
  LookupSet,
  LookupSetChange,
  LookupTable,
  LookupTableChange,
  SingleChange,
  SingleTable,
} from '@homedb/tables'

/**
 * Options every stream takes. `durable: true` follows `db.onDurable` instead of `db.onCommit`: emissions come once
 * the commits they show are durable under the db's durability mode (after the fdatasync with `'fsync'`), never
 * for a commit a crash can still lose. Refused on a read-only db (the stream errors with `TABLES_READ_ONLY`).
 */
export interface StreamOptions {
  /** Emit only what is durable (default false: emit at the in-memory commit, right for UI). */
  readonly durable?: boolean
}

/** The change record type of a table handle. */
export type ChangeOfTable<T> =
  T extends SingleTable<infer V>
    ? SingleChange<V>
    : T extends LookupTable<infer K, infer V>
      ? LookupTableChange<K, V>
      : T extends ListTable<infer V>
        ? ListChange<V>
        : T extends LookupList<infer K, infer V>
          ? LookupListChange<K, V>
          : T extends LookupSet<infer K, infer V>
            ? LookupSetChange<K, V>
            : T extends LookupMap<infer K, infer K2, infer V>
              ? LookupMapChange<K, K2, V>
              : never

/**
 * One emission of {@link changes}: a committed transaction's changes to one table, in order.
 * `reset: true` (with no changes) means the table was reloaded wholesale (a follower loaded a snapshot): read its
 * state again instead of applying deltas.
 */
export interface TableChanges<T extends AnyTable = AnyTable> {
  readonly seq: number
  readonly changes: readonly ChangeOfTable<T>[]
  readonly reset?: true
}

/** What a table's state looks like: the value of a `single`, the live readonly structure of the others. */
export type DataOf<T> =
  T extends SingleTable<infer V> ? ReturnType<SingleTable<V>['get']> : T extends { readonly data: infer D } ? D : never

/**
 * One emission of {@link state}: a versioned view of the table after commit `seq`. `data` is the table's own live
 * structure (no copy): read it synchronously in the subscriber; a later commit changes it in place. Every emission
 * is a new view object, so `distinctUntilChanged()` and change detection see each commit.
 */
export interface TableState<T extends AnyTable = AnyTable> {
  readonly seq: number
  readonly data: DataOf<T>
  /** True on the emission that follows a wholesale reload (see {@link TableChanges.reset}). */
  readonly reset: boolean
}

/** Tables with keys, for {@link keyState}. */
export type KeyedTable =
  // biome-ignore lint/suspicious/noExplicitAny: variance: a table of any key type must be assignable here
  | LookupTable<any, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | LookupList<any, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | LookupSet<any, any>
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | LookupMap<any, any, unknown>

/** The key type of a keyed table. */
export type KeyOf<T> = T extends { get(key: infer K): unknown } ? K : never

/** What {@link keyState} emits for a key: what `table.get(key)` returns. */
export type ValueAt<T> =
  T extends LookupMap<Key, infer K2, infer V>
    ? ReadonlyMap<K2, DeepReadonly<V>> | undefined
    : T extends LookupTable<Key, infer V>
      ? DeepReadonly<V> | undefined
      : T extends LookupList<Key, infer V>
        ? readonly DeepReadonly<V>[] | undefined
        : T extends LookupSet<Key, infer V>
          ? ReadonlySet<V> | undefined
          : never
