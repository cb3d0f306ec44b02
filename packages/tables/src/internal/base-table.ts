// What every table class shares: its identity (name, kind, db), the checks its writes run on keys and values (the
// built-in ones and those its definition declares), the internal hooks the db core calls, and the one thing a table
// knows of the db it belongs to: the TableHost it writes through. The hooks are symbol-keyed so they stay out of the
// public surface and of editor autocompletion.

import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Database } from '../database.js'
import { TablesReplayError } from '../errors.js'
import type { Key } from '../key.js'
import type { TableChange } from '../table-change.js'
import type { TableDef } from '../table-def.js'
import type { TableKind } from '../table-kind.js'
import type { KeyCheck } from '../table-options.js'
import type { Op } from './opcodes.js'
import { checkKeyAgainst, validateValue } from './standard-schema.js'
import type { TableCapture } from './state-capture.js'
import { acceptValue, checkKey, type ValueSite } from './validate.js'

/**
 * Applies one operation to memory. `out`, when given, receives the change records (old and new values) in order;
 * they also serve as the undo records. `fromLog` means the operation was decoded from the log: its arguments are
 * checked for shape (throwing a TablesReplayError, which replay completes with the seq) and its values frozen if the
 * db freezes. Returns whether the operation only added data: a push, a key or member created, a value set where
 * none was. False if it replaced, removed or cleared anything, or changed nothing: the log then holds bytes a
 * snapshot would not (dead weight, which the automatic compaction policy waits for: compactor.ts).
 */
export const APPLY: unique symbol = Symbol('homedb.tables.apply')
/** Reverts one change record produced by {@link APPLY} (transactions roll back newest first). */
export const UNDO: unique symbol = Symbol('homedb.tables.undo')
/** Captures the table's state now, for a snapshot written while writes go on (see state-capture.ts). */
export const CAPTURE: unique symbol = Symbol('homedb.tables.capture')
/** Empties the table without recording anything (a follower reloading from a snapshot). */
export const RESET: unique symbol = Symbol('homedb.tables.reset')

/** A change record seen loosely, for the mutation methods that read its `previous` or `index`. */
export type LooseChange = { readonly op: string; readonly previous?: unknown; readonly index?: number }

/**
 * What a table needs from the db it belongs to (the db core implements it): the handle users hold, whether values
 * are frozen, the check that a write may run now, and the write itself.
 */
export interface TableHost {
  /** The db handle the table is a property of. */
  readonly db: Database
  /** Deep-freeze values as they are stored (the `freeze` option). */
  readonly freeze: boolean
  /** Throws unless a mutation of `table` may run now (closed, read-only, failed log, doomed transaction). */
  assertWritable(table: string): void
  /**
   * Applies a validated operation to `table` and records it: inside a transaction it joins it, outside it is
   * committed at once (one frame). Returns the last change record it produced (the caller's return value).
   */
  mutate(table: BaseTable, op: Op): LooseChange
}

/** The common part of every table handle. */
export abstract class BaseTable<Kind extends TableKind = TableKind> {
  /** The table's name: the schema's property name, and its id in the log. */
  readonly name: string
  /** The table's kind. */
  readonly kind: Kind
  /** The db this table belongs to. */
  readonly db: Database
  readonly #host: TableHost
  readonly #schema: StandardSchemaV1 | undefined
  /** The key checks the definition declares, or `undefined` if it declares none (the common, fast case). */
  readonly #keyChecks:
    | { readonly key: KeyCheck | undefined; readonly key2: KeyCheck | undefined; readonly member: KeyCheck | undefined }
    | undefined

  /** @internal */
  constructor(host: TableHost, name: string, kind: Kind, def: TableDef) {
    this.#host = host
    this.name = name
    this.kind = kind
    this.db = host.db
    this.#schema = def?.schema
    const declared = def === undefined ? undefined : { key: def.key, key2: def.key2, member: def.member }
    this.#keyChecks =
      declared?.key === undefined && declared?.key2 === undefined && declared?.member === undefined
        ? undefined
        : declared
  }

  /**
   * `key` as stored, after the built-in check (a string or finite number; `-0` becomes `0`) and the table's own
   * key check, if its definition declares one. Throws `TABLES_INVALID_KEY`.
   * @internal
   */
  protected toKey(key: unknown, what: 'key' | 'key2' | 'member' = 'key'): Key {
    const k = checkKey(key, this.name, what)
    const checks = this.#keyChecks
    if (checks === undefined) return k
    const check = checks[what]
    if (check !== undefined) checkKeyAgainst(check, k, this.name, what)
    return k
  }

  /**
   * The value to store for `value`: the output of the table's schema if it declares one (`TABLES_SCHEMA_REJECTED`
   * otherwise), checked to round-trip and frozen (`TABLES_INVALID_VALUE`). Nothing is frozen if it throws.
   * @internal
   */
  protected toStored(value: unknown, site: ValueSite): unknown {
    const stored = this.#schema === undefined ? value : validateValue(this.#schema, value, site)
    acceptValue(stored, this.#host.freeze, site)
    return stored
  }

  /** @internal */
  abstract [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): boolean
  /** @internal */
  abstract [UNDO](change: TableChange): void
  /** @internal */
  abstract [CAPTURE](): TableCapture
  /** @internal */
  abstract [RESET](): void

  /** Throws a replay error for an operation whose arguments are malformed. */
  protected badOp(op: Op, reason: string): never {
    throw new TablesReplayError(`table "${this.name}": malformed operation ${String(op[1])}: ${reason}`, {
      table: this.name,
    })
  }
}
