// The durable forms of `state` and `keyState`. A state read from the live table is durable only when no commit
// after the last durable one touched that table (or key): the gate tracks, from the in-memory events, the seq of
// the newest commit that touched it, and lets a durable event through only once that commit is durable. The first
// emission waits for `db.sync()`, which delivers every durable event up to the db's seq at subscription first.
import type { AnyTable, Database, Key } from '@homedb/tables'
import { Observable } from 'rxjs'
import { hubOf } from './hub.js'

/**
 * An Observable of `read(seq, reset)` taken at durable points of `table` (of `key` in it, if given): on subscribe
 * once the current state is durable, then at each durable commit that touched it and is its newest change.
 */
export function durableStates<T>(
  table: AnyTable,
  key: Key | undefined,
  read: (seq: number, reset: boolean) => T,
): Observable<T> {
  const db: Database = table.db
  return new Observable<T>((subscriber) => {
    if (db.closed) {
      // A closed db synced everything it had: its last state is durable.
      subscriber.next(read(db.seq, false))
      subscriber.complete()
      return
    }
    // The table's newest in-memory change: unknown before subscription, so taken as the db's seq now.
    let newest = db.seq
    let emitted = false
    const touched = (seq: number) => {
      newest = seq
    }
    const durable = (seq: number, reset: boolean) => {
      if (seq < newest) return // a later commit touched it: that commit's durable event will emit
      emitted = true
      subscriber.next(read(seq, reset))
    }
    const done = () => subscriber.complete()
    let releases: (() => void)[]
    try {
      releases =
        key === undefined
          ? [
              hubOf(db, 'durable').addTableListener(table, (seq, _changes, reset) => durable(seq, reset), done),
              hubOf(db).addTableListener(table, touched, done),
            ]
          : [
              hubOf(db, 'durable').addKeyListener(table, key, durable, done),
              hubOf(db).addKeyListener(table, key, touched, done),
            ]
    } catch (error) {
      subscriber.error(error)
      return
    }
    const at = db.seq
    db.sync().then(
      () => {
        if (!emitted && !subscriber.closed && newest <= at) durable(at, false)
      },
      (error: unknown) => subscriber.error(error),
    )
    return () => {
      for (const release of releases) release()
    }
  })
}
