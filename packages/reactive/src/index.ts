// Public surface of @homedb/reactive.
export { changes, commits, keyState, state } from './streams.js'
export type {
  ChangeOfTable,
  DataOf,
  KeyedTable,
  KeyOf,
  StreamOptions,
  TableChanges,
  TableState,
  ValueAt,
} from './types.js'
