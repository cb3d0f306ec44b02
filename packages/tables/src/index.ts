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
export { type CommitOp, decodeCommitOps } from './commit-ops.js'
export { Database } from './database.js'
export {
  TablesBootstrapError,
  TablesConfigError,
  TablesError,
  type TablesErrorCode,
  type TablesErrorContext,
  TablesInputError,
  TablesLogError,
  TablesReplayError,
  TablesSchemaError,
  TablesStateError,
  TablesTransactionError,
  TablesWaitError,
} from './errors.js'
export { type FollowDbOptions, followDb } from './follow-db.js'
export type { CommitSource, CompactInfo, SnapshotSource } from './internal/db-core.js'
export type { WaitForOptions } from './internal/wait-for.js'
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
  type TableDef,
  type TableDefs,
  type ValueVersioning,
  type VersionedDef,
} from './schema.js'
export type {
  InferredOptions,
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
export type { AnyTable, ChangeOf, CommitEvent, Db, DefsOf, InferDb, TableOf } from './table-types.js'
export { ListTable } from './tables/list-table.js'
export { LookupList } from './tables/lookup-list.js'
export { LookupMap } from './tables/lookup-map.js'
export { LookupSet } from './tables/lookup-set.js'
export { LookupTable } from './tables/lookup-table.js'
export { SingleTable } from './tables/single-table.js'
export type {
  DeepReadonly,
  Insertable,
  Key,
  ListChange,
  LookupListChange,
  LookupMapChange,
  LookupSetChange,
  LookupTableChange,
  SingleChange,
  TableChange,
  TableKind,
  Updater,
} from './types.js'
export { type VerifyDbOptions, type VerifyDbProblem, type VerifyDbReport, verifyDb } from './verify-db.js'
