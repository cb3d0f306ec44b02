// Public surface of @homedb/tables. Everything not listed here is internal.
export {
  type BootstrapInfo,
  type BootstrapSource,
  RESTORE_MARKER,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreReport,
  restoreLog,
} from './bootstrap.js'
export type { ChangeOf, CommitEvent } from './commit-event.js'
export { type CommitOp, decodeCommitOps } from './commit-ops.js'
export type { CommitSource, SnapshotSource } from './commit-source.js'
export { type CompactInfo, Database, type WaitForOptions } from './database.js'
export type { AnyTable, Db, DefsOf, InferDb, TableOf } from './db-type.js'
export {
  TablesBootstrapError,
  TablesConfigError,
  TablesError,
  type TablesErrorCode,
  type TablesErrorContext,
  TablesInputError,
  TablesInternalError,
  TablesLogError,
  TablesReplayError,
  TablesSchemaError,
  TablesStateError,
  TablesTransactionError,
  TablesWaitError,
} from './errors.js'
export { type FollowDbOptions, followDb } from './follow-db.js'
export type { Key } from './key.js'
export {
  type LogState,
  type LogStateEntry,
  type LogStateOptions,
  type LogStateRange,
  type LogStateTable,
  readLogState,
} from './log-state.js'
export { type LogStateHash, type LogStateHashOptions, logStateHash } from './log-state-hash.js'
export { type LogView, logOf } from './log-view.js'
export { type OpenDbOptions, openDb } from './open-db.js'
export {
  type ListDef,
  type LookupListDef,
  type LookupMapDef,
  type LookupSetDef,
  type LookupTableDef,
  list,
  lookupList,
  lookupMap,
  lookupSet,
  lookupTable,
  RESERVED_TABLE_NAMES,
  type Schema,
  type SingleDef,
  schema,
  single,
  type TableDefs,
  type ValueVersioning,
} from './schema.js'
export type { DeepReadonly, Insertable, Updater } from './stored-value.js'
export type {
  ListChange,
  LookupListChange,
  LookupMapChange,
  LookupSetChange,
  LookupTableChange,
  SingleChange,
  TableChange,
} from './table-change.js'
export type { TableDef, VersionedDef } from './table-def.js'
export type { TableKind } from './table-kind.js'
export type {
  InferredOptions,
  InferredSetOptions,
  KeyCheck,
  KeyOfCheck,
  KeyTypeName,
  ListOptions,
  LookupListOptions,
  LookupMapOptions,
  LookupSetOptions,
  LookupTableOptions,
  NotStorable,
  OutputOf,
  SingleOptions,
  Storable,
  StorableLeaf,
  StorableShape,
  ValueOptions,
} from './table-options.js'
export { ListTable } from './tables/list-table.js'
export { LookupList } from './tables/lookup-list.js'
export { LookupMap } from './tables/lookup-map.js'
export { LookupSet } from './tables/lookup-set.js'
export { LookupTable } from './tables/lookup-table.js'
export { SingleTable } from './tables/single-table.js'
export { type VerifyDbOptions, type VerifyDbProblem, type VerifyDbReport, verifyDb } from './verify-db.js'
