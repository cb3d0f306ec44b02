// Type-level mapping from a schema to the db users hold: each definition becomes its table class with the user's key
// and value types, next to the db-level members of Database.
import type { Database } from './database.js'
import type {
  ListDef,
  LookupListDef,
  LookupMapDef,
  LookupSetDef,
  LookupTableDef,
  Schema,
  SingleDef,
  TableDefs,
} from './schema.js'
import type { ListTable } from './tables/list-table.js'
import type { LookupList } from './tables/lookup-list.js'
import type { LookupMap } from './tables/lookup-map.js'
import type { LookupSet } from './tables/lookup-set.js'
import type { LookupTable } from './tables/lookup-table.js'
import type { SingleTable } from './tables/single-table.js'

/** The table class a definition becomes in an open db. */
export type TableOf<T> =
  T extends SingleDef<infer V>
    ? SingleTable<V>
    : T extends LookupTableDef<infer K, infer V>
      ? LookupTable<K, V>
      : T extends ListDef<infer V>
        ? ListTable<V>
        : T extends LookupListDef<infer K, infer V>
          ? LookupList<K, V>
          : T extends LookupSetDef<infer K, infer V>
            ? LookupSet<K, V>
            : T extends LookupMapDef<infer K, infer K2, infer V>
              ? LookupMap<K, K2, V>
              : never

/** The table definitions of a schema, or the definitions themselves. */
export type DefsOf<S extends TableDefs | Schema<TableDefs>> = S extends TableDefs
  ? S
  : S extends Schema<infer D>
    ? D
    : never

/**
 * An open db: its tables as properties, named as in the schema, next to the {@link Database} members
 * (`seq`, `transaction`, `transactionSync`, `sync`, `close`, `onCommit`, `onDurable`, `onClose`, `closed`,
 * `readOnly`). Takes the schema's type or its table definitions: `Db<typeof Core>` and `Db<(typeof Core)['tables']>`
 * are the same type.
 *
 * @example
 * ```ts
 * function rename(db: Db<typeof Core>, id: string, name: string) {
 *   return db.metadata.update(id, (file) => ({ ...file, name }))
 * }
 * ```
 */
export type Db<S extends TableDefs | Schema<TableDefs>> = Database<DefsOf<S>> & {
  readonly [N in keyof DefsOf<S>]: TableOf<DefsOf<S>[N]>
}

/** The type of the db a schema opens: `InferDb<typeof Core>` is `Db<typeof Core>`. */
export type InferDb<S extends TableDefs | Schema<TableDefs>> = Db<S>

/** Any table of an open db (for code that handles every kind, such as the reactive layer). */
export type AnyTable =
  | SingleTable<unknown>
  // biome-ignore lint/suspicious/noExplicitAny: variance: a table of any key type must be assignable here
  | LookupTable<any, unknown>
  | ListTable<unknown>
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | LookupList<any, unknown>
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | LookupSet<any, any>
  // biome-ignore lint/suspicious/noExplicitAny: as above
  | LookupMap<any, any, unknown>
