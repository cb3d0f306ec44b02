// The four stream factories: commits (every transaction), changes (one table's deltas), state (one table's
// versioned view) and keyState (one key's value). Each is a cold Observable over the db's shared hubs; with
// `{ durable: true }` it follows the db's durable events instead of its in-memory commits (see durable-gate.ts for
// the two state streams).
import type { AnyTable, CommitEvent, Database, Db, Key, TableDefs } from '@homedb/tables'
import { Observable } from 'rxjs'
import { durableStates } from './internal/durable-gate.js'
import { hubOf } from './internal/hub.js'
import type {
  ChangeOfTable,
  DataOf,
  KeyedTable,
  KeyOf,
  StreamOptions,
  TableChanges,
  TableState,
  ValueAt,
} from './types.js'

function dbOf(table: AnyTable): Database {
  return table.db
}

const kindOf = (options: StreamOptions | undefined) => (options?.durable === true ? 'durable' : 'commit')

/**
 * Every committed transaction of `db`, in seq order, with its changes grouped by table. Completes when the db closes.
 * With `{ durable: true }`, each commit once it is durable (the events of `db.onDurable`).
 *
 * @example
 * ```ts
 * commits(db).subscribe(({ seq, changes }) => console.log(seq, Object.keys(changes)))
 * commits(db, { durable: true }).subscribe(({ seq }) => notifyOtherDevices(seq))
 * ```
 */
export function commits<D extends TableDefs>(
  db: Db<D> | Database<D>,
  options?: StreamOptions,
): Observable<CommitEvent<D>> {
  const database = db as unknown as Database
  return new Observable<CommitEvent<D>>((subscriber) => {
    if (database.closed) {
      subscriber.complete()
      return
    }
    try {
      return hubOf(database, kindOf(options)).addCommitListener(
        (event) => subscriber.next(event as unknown as CommitEvent<D>),
        () => subscriber.complete(),
      )
    } catch (error) {
      subscriber.error(error)
      return
    }
  })
}

/**
 * The changes of one table: one emission per committed transaction that touched it, with all of that
 * transaction's changes to the table in order (op, key or index, value, previous). A follower's reload emits
 * `{ seq, changes: [], reset: true }`. Completes when the db closes. With `{ durable: true }`, each emission once
 * its commit is durable.
 *
 * @example
 * ```ts
 * changes(db.metadata).subscribe(({ seq, changes }) => {
 *   for (const c of changes) if (c.op === 'set') console.log(seq, c.key, c.previous, '->', c.value)
 * })
 * ```
 */
export function changes<T extends AnyTable>(table: T, options?: StreamOptions): Observable<TableChanges<T>> {
  const db = dbOf(table)
  return new Observable<TableChanges<T>>((subscriber) => {
    if (db.closed) {
      subscriber.complete()
      return
    }
    try {
      return hubOf(db, kindOf(options)).addTableListener(
        table,
        (seq, list, reset) =>
          subscriber.next(
            reset ? { seq, changes: [], reset: true } : { seq, changes: list as readonly ChangeOfTable<T>[] },
          ),
        () => subscriber.complete(),
      )
    } catch (error) {
      subscriber.error(error)
      return
    }
  })
}

function dataOf<T extends AnyTable>(table: T): DataOf<T> {
  return (
    table.kind === 'single' ? (table as { get(): unknown }).get() : (table as { data: unknown }).data
  ) as DataOf<T>
}

/**
 * The state of one table: a versioned view `{ seq, data, reset }` on subscribe, then after each commit that
 * touched the table. `data` is what the table's `data` (for a `single`, `get()`) returns: a live read-only view
 * for keyed tables, a frozen array for a list; O(1) per emission. Completes when the db closes.
 *
 * With `{ durable: true }` it emits only durable states: the first emission comes once the state at subscription
 * is durable, then one after each durable commit that touched the table unless a later commit (not durable yet)
 * touched it too, in which case that later commit's durable event emits. Intermediate states may be skipped.
 *
 * @example
 * ```ts
 * state(db.metadata).subscribe(({ seq, data }) => render(seq, [...data.values()]))
 * ```
 */
export function state<T extends AnyTable>(table: T, options?: StreamOptions): Observable<TableState<T>> {
  const db = dbOf(table)
  if (options?.durable === true) {
    return durableStates(table, undefined, (seq, reset) => ({ seq, data: dataOf(table), reset }))
  }
  return new Observable<TableState<T>>((subscriber) => {
    subscriber.next({ seq: db.seq, data: dataOf(table), reset: false })
    if (db.closed) {
      subscriber.complete()
      return
    }
    return hubOf(db).addTableListener(
      table,
      (seq, _changes, reset) => subscriber.next({ seq, data: dataOf(table), reset }),
      () => subscriber.complete(),
    )
  })
}

/**
 * The value at one key of a keyed table (`lookupTable`, `lookupList`, `lookupSet`, `lookupMap`): what
 * `table.get(key)` returns, on subscribe and then after each commit that changed that key (and only those).
 * Completes when the db closes. With `{ durable: true }`, only durable values, as for {@link state}.
 *
 * @example
 * ```ts
 * keyState(db.metadata, 'file-1').subscribe((meta) => console.log(meta?.name ?? 'deleted'))
 * ```
 */
export function keyState<T extends KeyedTable>(
  table: T,
  key: KeyOf<T>,
  options?: StreamOptions,
): Observable<ValueAt<T>> {
  const db = dbOf(table)
  const get = () => (table as unknown as { get(k: Key): ValueAt<T> }).get(key as Key)
  if (options?.durable === true) return durableStates(table, key as Key, get)
  return new Observable<ValueAt<T>>((subscriber) => {
    subscriber.next(get())
    if (db.closed) {
      subscriber.complete()
      return
    }
    return hubOf(db).addKeyListener(
      table,
      key as Key,
      () => subscriber.next(get()),
      () => subscriber.complete(),
    )
  })
}
