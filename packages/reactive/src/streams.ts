// The four stream factories: commits (every transaction), changes (one table's deltas), state (one table's
// versioned view) and keyState (one key's value). Each is a cold Observable over the db's shared hub.
import type { AnyTable, CommitEvent, Database, Db, Key, TableDefs } from '@homedb/tables'
import { Observable } from 'rxjs'
import { hubOf } from './internal/hub.js'
import type { ChangeOfTable, DataOf, KeyedTable, KeyOf, TableChanges, TableState, ValueAt } from './types.js'

function dbOf(table: AnyTable): Database {
  return table.db
}

/**
 * Every committed transaction of `db`, in seq order, with its changes grouped by table. Completes when the db closes.
 *
 * @example
 * ```ts
 * commits(db).subscribe(({ seq, changes }) => console.log(seq, Object.keys(changes)))
 * ```
 */
export function commits<D extends TableDefs>(db: Db<D> | Database<D>): Observable<CommitEvent<D>> {
  const database = db as unknown as Database
  return new Observable<CommitEvent<D>>((subscriber) => {
    if (database.closed) {
      subscriber.complete()
      return
    }
    return hubOf(database).addCommitListener(
      (event) => subscriber.next(event as unknown as CommitEvent<D>),
      () => subscriber.complete(),
    )
  })
}

/**
 * The changes of one table: one emission per committed transaction that touched it, with all of that
 * transaction's changes to the table in order (op, key or index, value, previous). A follower's reload emits
 * `{ seq, changes: [], reset: true }`. Completes when the db closes.
 *
 * @example
 * ```ts
 * changes(db.metadata).subscribe(({ seq, changes }) => {
 *   for (const c of changes) if (c.op === 'set') console.log(seq, c.key, c.previous, '->', c.value)
 * })
 * ```
 */
export function changes<T extends AnyTable>(table: T): Observable<TableChanges<T>> {
  const db = dbOf(table)
  return new Observable<TableChanges<T>>((subscriber) => {
    if (db.closed) {
      subscriber.complete()
      return
    }
    return hubOf(db).addTableListener(
      table,
      (seq, list, reset) =>
        subscriber.next(
          reset ? { seq, changes: [], reset: true } : { seq, changes: list as readonly ChangeOfTable<T>[] },
        ),
      () => subscriber.complete(),
    )
  })
}

function dataOf<T extends AnyTable>(table: T): DataOf<T> {
  return (
    table.kind === 'single' ? (table as { get(): unknown }).get() : (table as { data: unknown }).data
  ) as DataOf<T>
}

/**
 * The state of one table: a versioned view `{ seq, data, reset }` on subscribe, then after each commit that
 * touched the table. `data` is the table's live structure (O(1) per emission, no copy). Completes when the db closes.
 *
 * @example
 * ```ts
 * state(db.metadata).subscribe(({ seq, data }) => render(seq, [...data.values()]))
 * ```
 */
export function state<T extends AnyTable>(table: T): Observable<TableState<T>> {
  const db = dbOf(table)
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
 * Completes when the db closes.
 *
 * @example
 * ```ts
 * keyState(db.metadata, 'file-1').subscribe((meta) => console.log(meta?.name ?? 'deleted'))
 * ```
 */
export function keyState<T extends KeyedTable>(table: T, key: KeyOf<T>): Observable<ValueAt<T>> {
  const db = dbOf(table)
  const get = () => (table as unknown as { get(k: Key): ValueAt<T> }).get(key as Key)
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
