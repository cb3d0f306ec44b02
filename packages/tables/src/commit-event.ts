// The commit event: what `onCommit` and `onDurable` listeners receive, typed per table from the schema (each table's
// change records with the user's key and value types).
import type {
  ListDef,
  LookupListDef,
  LookupMapDef,
  LookupSetDef,
  LookupTableDef,
  SingleDef,
  TableDefs,
} from './schema.js'
import type {
  ListChange,
  LookupListChange,
  LookupMapChange,
  LookupSetChange,
  LookupTableChange,
  SingleChange,
} from './table-change.js'

/** The change record type of a table definition. */
export type ChangeOf<T> =
  T extends SingleDef<infer V>
    ? SingleChange<V>
    : T extends LookupTableDef<infer K, infer V>
      ? LookupTableChange<K, V>
      : T extends ListDef<infer V>
        ? ListChange<V>
        : T extends LookupListDef<infer K, infer V>
          ? LookupListChange<K, V>
          : T extends LookupSetDef<infer K, infer V>
            ? LookupSetChange<K, V>
            : T extends LookupMapDef<infer K, infer K2, infer V>
              ? LookupMapChange<K, K2, V>
              : never

/**
 * What `onCommit` listeners receive: the commit's seq and, for each table the commit touched (and only those),
 * its changes in order, each with old and new values.
 */
export interface CommitEvent<D extends TableDefs = TableDefs> {
  readonly seq: number
  readonly changes: { readonly [N in keyof D]?: readonly ChangeOf<D[N]>[] }
  /**
   * Set (with no changes) when a follower reloaded its state from a snapshot instead of applying deltas: read the
   * tables again rather than applying changes.
   */
  readonly reset?: true
}
