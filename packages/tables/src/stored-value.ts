// How stored values are typed on their way in and out: reads hand out deeply readonly values (the db owns them and
// freezes them), mutations accept the value type or such a readonly value read back.

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
