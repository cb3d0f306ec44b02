// What every table class shares: its identity (name, kind, db) and the three internal hooks the db core calls.
// The hooks are symbol-keyed so they stay out of the public surface and of editor autocompletion.

import type { Database } from '../database.js'
import { TablesReplayError } from '../errors.js'
import type { TableChange, TableKind } from '../types.js'
import type { DbCore } from './db-core.js'
import type { Op } from './opcodes.js'
import type { TableCapture } from './state-capture.js'

/**
 * Applies one operation to memory. `out`, when given, receives the change records (old and new values) in order;
 * they also serve as the undo records. `fromLog` means the operation was decoded from the log: its arguments are
 * checked for shape (throwing {@link OpError}) and its values frozen if the db freezes.
 */
export const APPLY: unique symbol = Symbol('homedb.tables.apply')
/** Reverts one change record produced by {@link APPLY} (transactions roll back newest first). */
export const UNDO: unique symbol = Symbol('homedb.tables.undo')
/** Captures the table's state now, for a snapshot written while writes go on (see state-capture.ts). */
export const CAPTURE: unique symbol = Symbol('homedb.tables.capture')
/** Empties the table without recording anything (a follower reloading from a snapshot). */
export const RESET: unique symbol = Symbol('homedb.tables.reset')

/** A malformed operation read from the log; the core turns it into a TablesReplayError with the seq. */
export class OpError extends TablesReplayError {}

/** The common part of every table handle. */
export abstract class BaseTable<Kind extends TableKind = TableKind> {
  /** The table's name: the schema's property name, and its id in the log. */
  readonly name: string
  /** The table's kind. */
  readonly kind: Kind
  /** The db this table belongs to. */
  readonly db: Database
  /** @internal */
  protected readonly core: DbCore

  /** @internal */
  constructor(core: DbCore, name: string, kind: Kind) {
    this.core = core
    this.name = name
    this.kind = kind
    this.db = core.handle
  }

  /** @internal */
  abstract [APPLY](op: Op, out: TableChange[] | undefined, fromLog: boolean): void
  /** @internal */
  abstract [UNDO](change: TableChange): void
  /** @internal */
  abstract [CAPTURE](): TableCapture
  /** @internal */
  abstract [RESET](): void

  /** Throws a replay error for an operation whose arguments are malformed. */
  protected badOp(op: Op, reason: string): never {
    throw new OpError(`table "${this.name}": malformed operation ${String(op[1])}: ${reason}`, { table: this.name })
  }
}
