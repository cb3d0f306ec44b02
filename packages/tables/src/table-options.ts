// What a table definition can say besides its kind: a Standard Schema that validates (and types) its values, run-time
// checks of its keys, and how its values evolve. Also `Storable`, the compile-time check that refuses value types
// the db can never store (functions, Maps, Sets, class instances), so the mistake shows in the editor, not at the
// first insert.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Key } from './key.js'

/**
 * A run-time check of a table's keys (or a lookupMap's second keys, or a lookupSet's members): `'string'` or
 * `'number'` (the key's `typeof`), or any Standard Schema whose output is the key type (zod, valibot, arktype …).
 * A key that fails it is refused with `TABLES_INVALID_KEY` before anything changes. Only writes are checked; a
 * schema's output is not used (keys are stored as given).
 */
export type KeyCheck<K extends Key = Key> =
  | (Key extends K ? 'string' | 'number' : KeyTypeName<K>)
  | StandardSchemaV1<unknown, K>

/** `'string'` for string keys, `'number'` for number keys (a mixed key type needs a schema). */
export type KeyTypeName<K extends Key> =
  | ([K] extends [string] ? 'string' : never)
  | ([K] extends [number] ? 'number' : never)

/** The value options of a table definition. */
export interface ValueOptions<V> {
  /**
   * A Standard Schema (zod, valibot, arktype, …) that every inserted value must pass before anything changes; its
   * output is what is stored (defaults and transforms apply). A rejected value throws `TABLES_SCHEMA_REJECTED`
   * with the schema's issues; an asynchronous schema is refused with `TABLES_ASYNC_SCHEMA` (transactions are
   * synchronous). Values loaded from the log are not validated again. Without type arguments the table's value
   * type is the schema's output type.
   */
  readonly schema?: StandardSchemaV1<unknown, V>
  /** Version of the values written now (see {@link ValueVersioning}). */
  readonly version?: number
  /** Turns a value written with an older `version` into a current one (see {@link ValueVersioning}). */
  readonly upgrade?: (old: unknown, fromVersion: number) => V
}

/** Options of `single<V>()`. */
export type SingleOptions<V> = ValueOptions<V>
/** Options of `list<V>()`. */
export type ListOptions<V> = ValueOptions<V>
/** Options of `lookupTable<K, V>()`. */
export interface LookupTableOptions<K extends Key, V> extends ValueOptions<V> {
  /** Run-time check of the keys. */
  readonly key?: KeyCheck<K>
}
/** Options of `lookupList<K, V>()`. */
export interface LookupListOptions<K extends Key, V> extends ValueOptions<V> {
  /** Run-time check of the keys. */
  readonly key?: KeyCheck<K>
}
/** Options of `lookupSet<K, V>()` (members are keys, so they have a key check, not a value schema). */
export interface LookupSetOptions<K extends Key, V extends Key> {
  /** Run-time check of the keys. */
  readonly key?: KeyCheck<K>
  /** Run-time check of the members. */
  readonly member?: KeyCheck<V>
}
/** Options of `lookupMap<K, K2, V>()`. */
export interface LookupMapOptions<K extends Key, K2 extends Key, V> extends ValueOptions<V> {
  /** Run-time check of the first keys. */
  readonly key?: KeyCheck<K>
  /** Run-time check of the second keys. */
  readonly key2?: KeyCheck<K2>
}

/** The options a table definition is inferred from (no type arguments): a schema, and optionally key checks. */
export interface InferredOptions {
  readonly schema: StandardSchemaV1
  readonly key?: 'string' | 'number' | StandardSchemaV1<unknown, Key>
  readonly key2?: 'string' | 'number' | StandardSchemaV1<unknown, Key>
  readonly version?: number
  readonly upgrade?: (old: unknown, fromVersion: number) => unknown
}

/**
 * Options of a `lookupSet` whose key and member types come from its checks (no type arguments): a check given as
 * `'string'` or `'number'` (or a schema) decides the type; without one it is `string | number`.
 */
export interface InferredSetOptions {
  readonly key?: 'string' | 'number' | StandardSchemaV1<unknown, Key>
  readonly member?: 'string' | 'number' | StandardSchemaV1<unknown, Key>
}

/** The value type a schema produces. */
export type OutputOf<S> = S extends StandardSchemaV1<unknown, infer O> ? O : unknown

/** The key type a key check admits (`Key` when there is none). */
export type KeyOfCheck<C> = C extends 'string'
  ? string
  : C extends 'number'
    ? number
    : C extends StandardSchemaV1<unknown, infer K extends Key>
      ? K
      : Key

/** A compile-time marker: a value type the db cannot store. The text says why (it shows in the type error). */
export type NotStorable<Why extends string> = `not storable: ${Why}`

/** Types stored as they are: primitives, `Date` and `Uint8Array` (see the README's Values). */
export type StorableLeaf = string | number | boolean | bigint | null | undefined | Date | Uint8Array

/**
 * The shape a storable `T` has: `T`'s own structure with every part that cannot be stored replaced by a
 * {@link NotStorable} message. Checked 10 levels deep (deeper parts are checked at run time only).
 */
export type StorableShape<T, Depth extends unknown[] = []> = unknown extends T
  ? unknown
  : Depth['length'] extends 10
    ? unknown
    : T extends StorableLeaf
      ? StorableLeaf
      : T extends (...args: never[]) => unknown
        ? NotStorable<'a function'>
        : T extends symbol
          ? NotStorable<'a symbol'>
          : T extends ReadonlyMap<unknown, unknown>
            ? NotStorable<'a Map (use a plain object, or a lookupMap table)'>
            : T extends ReadonlySet<unknown>
              ? NotStorable<'a Set (use an array, or a lookupSet table)'>
              : T extends object
                ? { [P in keyof T]: StorableShape<T[P], [...Depth, 0]> }
                : T

/**
 * The constraint on every table's value type: `V extends Storable<V>` holds for the types the db can store and
 * fails, naming the part and the reason, for functions, symbols, Maps, Sets and class instances (anything with
 * methods) anywhere in the value. `unknown` and `any` pass (checked at run time).
 *
 * @example
 * ```ts
 * lookupTable<string, { name: string; tags: string[] }>() // fine
 * // @ts-expect-error: does not satisfy the constraint "not storable: a Map …"
 * lookupTable<string, Map<string, number>>()
 * ```
 */
export type Storable<V> = [V] extends [StorableShape<V>] ? unknown : StorableShape<V>
