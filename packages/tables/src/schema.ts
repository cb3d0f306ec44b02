// Declaring a database: the six table-definition factories and `schema()`, which checks the table names.
// Definitions carry their key and value types as phantom types, so `openDb` can give each table its own types.
import { TablesSchemaError } from './errors.js'
import type { Key, TableKind } from './types.js'

declare const keyType: unique symbol
declare const key2Type: unique symbol
declare const valueType: unique symbol

/** What every table definition has: its kind (and, if declared, its value versioning). Type parameters exist only at compile time. */
export interface TableDef<Kind extends TableKind = TableKind> extends VersionedDef {
  readonly kind: Kind
}

/** The value versioning part of a definition, untyped (what the db core reads). */
export interface VersionedDef {
  readonly version?: number
  readonly upgrade?: (old: unknown, fromVersion: number) => unknown
}

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
 * Names a table cannot have, because the db object uses them (or will: `compact`), or because they
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
  // planned next (replication: a state hash, read-your-writes)
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
 * A table holding at most one value of type `V`.
 *
 * @example
 * ```ts
 * const Core = schema({ account: single<{ name: string }>() })
 * ```
 */
export function single<V>(versioning?: ValueVersioning<V>): SingleDef<V> {
  return versioning === undefined
    ? { kind: 'single' }
    : { kind: 'single', version: versioning.version, upgrade: versioning.upgrade }
}

/**
 * A table mapping keys `K` (string or number) to values `V`, in insertion order.
 *
 * @example
 * ```ts
 * const Core = schema({ metadata: lookupTable<string, { size: number }>() })
 * ```
 */
export function lookupTable<K extends Key, V>(versioning?: ValueVersioning<V>): LookupTableDef<K, V> {
  return versioning === undefined
    ? { kind: 'lookupTable' }
    : { kind: 'lookupTable', version: versioning.version, upgrade: versioning.upgrade }
}

/**
 * An ordered list of values `V`.
 *
 * @example
 * ```ts
 * const Core = schema({ events: list<{ at: number; what: string }>() })
 * ```
 */
export function list<V>(versioning?: ValueVersioning<V>): ListDef<V> {
  return versioning === undefined
    ? { kind: 'list' }
    : { kind: 'list', version: versioning.version, upgrade: versioning.upgrade }
}

/**
 * A table mapping keys `K` to ordered lists of values `V`.
 *
 * @example
 * ```ts
 * const Core = schema({ history: lookupList<string, { at: number }>() })
 * ```
 */
export function lookupList<K extends Key, V>(versioning?: ValueVersioning<V>): LookupListDef<K, V> {
  return versioning === undefined
    ? { kind: 'lookupList' }
    : { kind: 'lookupList', version: versioning.version, upgrade: versioning.upgrade }
}

/**
 * A table mapping keys `K` to sets of members `V` (strings or numbers, like keys).
 *
 * @example
 * ```ts
 * const Core = schema({ children: lookupSet<string, string>() })
 * ```
 */
export function lookupSet<K extends Key, V extends Key>(): LookupSetDef<K, V> {
  return { kind: 'lookupSet' }
}

/**
 * A table mapping keys `K` to maps from second keys `K2` to values `V`.
 *
 * @example
 * ```ts
 * const Core = schema({ shares: lookupMap<string, string, { mode: 'read' | 'write' }>() })
 * ```
 */
export function lookupMap<K extends Key, K2 extends Key, V>(versioning?: ValueVersioning<V>): LookupMapDef<K, K2, V> {
  return versioning === undefined
    ? { kind: 'lookupMap' }
    : { kind: 'lookupMap', version: versioning.version, upgrade: versioning.upgrade }
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
    const { version, upgrade } = def
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw new TablesSchemaError('TABLES_SCHEMA', `table "${name}": version must be an integer ≥ 1`, {
        table: name,
        version,
      })
    }
    if (version !== undefined && version > 1 && typeof upgrade !== 'function') {
      throw new TablesSchemaError(
        'TABLES_SCHEMA',
        `table "${name}": version ${version} needs an upgrade(old, fromVersion) function`,
        {
          table: name,
          version,
        },
      )
    }
    if (version !== undefined && def.kind === 'lookupSet') {
      throw new TablesSchemaError('TABLES_SCHEMA', `table "${name}": a lookupSet holds keys, which have no versions`, {
        table: name,
      })
    }
    copy[name] = Object.freeze(
      version === undefined
        ? { kind: def.kind }
        : upgrade === undefined
          ? { kind: def.kind, version }
          : { kind: def.kind, version, upgrade },
    )
  }
  return Object.freeze({ tables: Object.freeze(copy) as Readonly<D> })
}
