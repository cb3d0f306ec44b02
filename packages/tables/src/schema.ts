// Declaring a database: the six table-definition factories and `schema()`, which checks the table names and every
// definition's options. Definitions carry their key and value types as phantom types, so `openDb` can give each
// table its own types; a definition made from a Standard Schema takes its value type from it.
import { TablesSchemaError } from './errors.js'
import { checkDefinition } from './internal/definition-check.js'
import type { Key } from './key.js'
import type { TableDef } from './table-def.js'
import type { TableKind } from './table-kind.js'
import type {
  InferredOptions,
  InferredSetOptions,
  KeyOfCheck,
  ListOptions,
  LookupListOptions,
  LookupMapOptions,
  LookupSetOptions,
  LookupTableOptions,
  OutputOf,
  SingleOptions,
  Storable,
} from './table-options.js'

declare const keyType: unique symbol
declare const key2Type: unique symbol
declare const valueType: unique symbol

/**
 * How a table's values evolve: the version of the values written now, and how to turn a value written under an
 * older version into a current one. Values are upgraded as they are loaded (replay and snapshot); the first
 * writable open after a version change records the new version in the log and compacts, so the upgrade runs
 * once per value. See the README, "Evolving a value type".
 *
 * @example
 * ```ts
 * interface FileV2 { name: string; bytes: number }
 * const files = lookupTable<string, FileV2>({
 *   version: 2,
 *   upgrade: (old, from) => ({ name: (old as { name: string }).name, bytes: (old as { size: number }).size }),
 * })
 * ```
 */
export interface ValueVersioning<V> {
  /** Version of the values written now: an integer ≥ 1 (tables without versioning are version 1). */
  readonly version: number
  /** Turns a value written with `fromVersion` (lower than `version`) into a current value. */
  readonly upgrade: (old: unknown, fromVersion: number) => V
}

/** Definition of a table holding at most one value. Create it with {@link single}. */
export interface SingleDef<V> extends TableDef<'single'> {
  readonly [valueType]?: (v: V) => V
}
/** Definition of a key → value table. Create it with {@link lookupTable}. */
export interface LookupTableDef<K extends Key, V> extends TableDef<'lookupTable'> {
  readonly [keyType]?: (k: K) => K
  readonly [valueType]?: (v: V) => V
}
/** Definition of an ordered list of values. Create it with {@link list}. */
export interface ListDef<V> extends TableDef<'list'> {
  readonly [valueType]?: (v: V) => V
}
/** Definition of a key → ordered list of values table. Create it with {@link lookupList}. */
export interface LookupListDef<K extends Key, V> extends TableDef<'lookupList'> {
  readonly [keyType]?: (k: K) => K
  readonly [valueType]?: (v: V) => V
}
/** Definition of a key → set of members table. Create it with {@link lookupSet}. */
export interface LookupSetDef<K extends Key, V extends Key> extends TableDef<'lookupSet'> {
  readonly [keyType]?: (k: K) => K
  readonly [valueType]?: (v: V) => V
}
/** Definition of a key → (key2 → value) table. Create it with {@link lookupMap}. */
export interface LookupMapDef<K extends Key, K2 extends Key, V> extends TableDef<'lookupMap'> {
  readonly [keyType]?: (k: K) => K
  readonly [key2Type]?: (k: K2) => K2
  readonly [valueType]?: (v: V) => V
}

/** The table definitions of a schema, by table name. */
export type TableDefs = { readonly [name: string]: TableDef }

/** A validated schema: pass it to {@link openDb}. Create it with {@link schema}. */
export interface Schema<D extends TableDefs> {
  /** Table definitions by name; the names are the table ids stored in the log. */
  readonly tables: Readonly<D>
}

/**
 * Names a table cannot have, because the db object uses them, or because they
 * would confuse JavaScript (`then` would make the db look like a promise, `__proto__`, `constructor` …).
 * Any other name is fine, including `log`, `schema` or `name`.
 */
export const RESERVED_TABLE_NAMES: readonly string[] = Object.freeze([
  // db members
  'seq',
  'closed',
  'readOnly',
  'transaction',
  'transactionSync',
  'sync',
  'close',
  'onCommit',
  'onDurable',
  'onClose',
  'compact',
  // replication (state digest, read-your-writes)
  'stateHash',
  'waitFor',
  // JavaScript
  'then',
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'toJSON',
  'valueOf',
  'toLocaleString',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
])
const reserved = new Set(RESERVED_TABLE_NAMES)
const kinds = new Set<string>(['single', 'lookupTable', 'list', 'lookupList', 'lookupSet', 'lookupMap'])

/**
 * A table holding at most one value of type `V`. Options: a Standard Schema for the value (the value type is then
 * inferred from it), value versioning.
 *
 * @example
 * ```ts
 * const Core = schema({ account: single<{ name: string }>() })
 * ```
 */
export function single<const O extends InferredOptions>(options: O): SingleDef<OutputOf<O['schema']>>
export function single<V extends Storable<V>>(options?: SingleOptions<V>): SingleDef<V>
export function single(options?: SingleOptions<unknown>): SingleDef<unknown> {
  return define('single', options)
}

/**
 * A table mapping keys `K` (string or number) to values `V`, in insertion order. Options: a Standard Schema for the
 * values (`V` is then inferred from it), a run-time key check (`key: 'string'`, `'number'` or a schema), value
 * versioning.
 *
 * @example
 * ```ts
 * const Core = schema({ metadata: lookupTable<string, { size: number }>() })
 * const Checked = schema({ files: lookupTable({ key: 'string', schema: FileSchema }) }) // zod, valibot, arktype …
 * ```
 */
export function lookupTable<const O extends InferredOptions>(
  options: O,
): LookupTableDef<KeyOfCheck<O['key']>, OutputOf<O['schema']>>
export function lookupTable<K extends Key, V extends Storable<V>>(
  options?: LookupTableOptions<K, V>,
): LookupTableDef<K, V>
export function lookupTable(options?: LookupTableOptions<Key, unknown>): LookupTableDef<Key, unknown> {
  return define('lookupTable', options)
}

/**
 * An ordered list of values `V`. Options: a Standard Schema for the values, value versioning.
 *
 * @example
 * ```ts
 * const Core = schema({ events: list<{ at: number; what: string }>() })
 * ```
 */
export function list<const O extends InferredOptions>(options: O): ListDef<OutputOf<O['schema']>>
export function list<V extends Storable<V>>(options?: ListOptions<V>): ListDef<V>
export function list(options?: ListOptions<unknown>): ListDef<unknown> {
  return define('list', options)
}

/**
 * A table mapping keys `K` to ordered lists of values `V`. Options as for {@link lookupTable}.
 *
 * @example
 * ```ts
 * const Core = schema({ history: lookupList<string, { at: number }>() })
 * ```
 */
export function lookupList<const O extends InferredOptions>(
  options: O,
): LookupListDef<KeyOfCheck<O['key']>, OutputOf<O['schema']>>
export function lookupList<K extends Key, V extends Storable<V>>(options?: LookupListOptions<K, V>): LookupListDef<K, V>
export function lookupList(options?: LookupListOptions<Key, unknown>): LookupListDef<Key, unknown> {
  return define('lookupList', options)
}

/**
 * A table mapping keys `K` to sets of members `V` (strings or numbers, like keys). Options: run-time checks of the
 * keys (`key`) and of the members (`member`).
 *
 * @example
 * ```ts
 * const Core = schema({ children: lookupSet<string, string>() })
 * const Checked = schema({ children: lookupSet({ key: 'string', member: 'string' }) }) // LookupSet<string, string>
 * ```
 */
export function lookupSet<const O extends InferredSetOptions>(
  options: O,
): LookupSetDef<KeyOfCheck<O['key']>, KeyOfCheck<O['member']>>
export function lookupSet<K extends Key, V extends Key>(options?: LookupSetOptions<K, V>): LookupSetDef<K, V>
export function lookupSet(options?: LookupSetOptions<Key, Key>): LookupSetDef<Key, Key> {
  return define('lookupSet', options)
}

/**
 * A table mapping keys `K` to maps from second keys `K2` to values `V`. Options as for {@link lookupTable}, plus a
 * run-time check of the second keys (`key2`).
 *
 * @example
 * ```ts
 * const Core = schema({ shares: lookupMap<string, string, { mode: 'read' | 'write' }>() })
 * ```
 */
export function lookupMap<const O extends InferredOptions>(
  options: O,
): LookupMapDef<KeyOfCheck<O['key']>, KeyOfCheck<O['key2']>, OutputOf<O['schema']>>
export function lookupMap<K extends Key, K2 extends Key, V extends Storable<V>>(
  options?: LookupMapOptions<K, K2, V>,
): LookupMapDef<K, K2, V>
export function lookupMap(options?: LookupMapOptions<Key, Key, unknown>): LookupMapDef<Key, Key, unknown> {
  return define('lookupMap', options)
}

/** A definition of `kind` carrying the options as given (checked by `schema()`, which knows the table's name). */
function define<Kind extends TableKind>(kind: Kind, options: object | undefined): TableDef<Kind> {
  if (options === undefined) return { kind }
  if (typeof options !== 'object' || options === null) {
    throw new TablesSchemaError('TABLES_SCHEMA', `${kind}() takes an options object`, { options })
  }
  return { ...(options as Omit<TableDef, 'kind'>), kind }
}

/**
 * Declares a database: its tables by name. Names are the table ids stored in the log, so renaming a property
 * renames the table. Throws a {@link TablesSchemaError} (`TABLES_SCHEMA`) for a name that is empty or reserved
 * ({@link RESERVED_TABLE_NAMES}) and for a definition not made by one of the table factories.
 *
 * @example
 * ```ts
 * const Core = schema({
 *   account: single<Account>(),
 *   metadata: lookupTable<string, FileMeta>(),
 * })
 * const db = await openDb(Core)
 * ```
 */
export function schema<const D extends TableDefs>(tables: D): Schema<D> {
  if (typeof tables !== 'object' || tables === null || Array.isArray(tables)) {
    throw new TablesSchemaError('TABLES_SCHEMA', 'schema() takes an object of table definitions')
  }
  const copy: Record<string, TableDef> = Object.create(null)
  for (const name of Reflect.ownKeys(tables)) {
    if (typeof name !== 'string') {
      throw new TablesSchemaError('TABLES_SCHEMA', 'table names must be strings, not symbols')
    }
    if (name === '' || reserved.has(name)) {
      throw new TablesSchemaError(
        'TABLES_SCHEMA',
        name === ''
          ? 'a table name cannot be empty (it is reserved for db-level operations in the log)'
          : `table name "${name}" is reserved: it collides with a db member (${RESERVED_TABLE_NAMES.join(', ')})`,
        { table: name },
      )
    }
    const def = (tables as Record<string, unknown>)[name] as TableDef | undefined
    if (typeof def !== 'object' || def === null || !kinds.has(def.kind)) {
      throw new TablesSchemaError(
        'TABLES_SCHEMA',
        `table "${name}" is not a table definition: use single(), lookupTable(), list(), lookupList(), lookupSet() or lookupMap()`,
        { table: name },
      )
    }
    copy[name] = checkDefinition(name, def)
  }
  return Object.freeze({ tables: Object.freeze(copy) as Readonly<D> })
}
