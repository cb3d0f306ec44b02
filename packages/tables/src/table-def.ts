// What every table definition has, untyped: its kind, value versioning, value schema and key checks. The schema's
// factories make typed definitions (schema.ts); the db and `schema()`'s checks read them through this shape.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { TableKind } from './table-kind.js'
import type { KeyCheck } from './table-options.js'

/**
 * What every table definition has: its kind and, if declared, its value versioning, value schema and key checks
 * (untyped here: the typed forms are the factories' options). Type parameters exist only at compile time.
 */
export interface TableDef<Kind extends TableKind = TableKind> extends VersionedDef {
  readonly kind: Kind
  /** Validates inserted values (a Standard Schema). */
  readonly schema?: StandardSchemaV1
  /** Checks keys at run time. */
  readonly key?: KeyCheck
  /** Checks a lookupMap's second keys at run time. */
  readonly key2?: KeyCheck
  /** Checks a lookupSet's members at run time. */
  readonly member?: KeyCheck
}

/** The value versioning part of a definition, untyped (what the db core reads). */
export interface VersionedDef {
  readonly version?: number
  readonly upgrade?: (old: unknown, fromVersion: number) => unknown
}
