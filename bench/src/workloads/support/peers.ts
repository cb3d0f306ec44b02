// Callback-style peer APIs turned into promises, shared by the workloads that persist LokiJS databases.
import type Loki from 'lokijs'

/** `db.saveDatabase` as a promise. */
export function lokiSave(db: Loki): Promise<void> {
  return new Promise((resolve, reject) => db.saveDatabase((err?: unknown) => (err ? reject(err) : resolve())))
}

/** `db.loadDatabase` as a promise. */
export function lokiLoad(db: Loki): Promise<void> {
  return new Promise((resolve, reject) => db.loadDatabase({}, (err?: unknown) => (err ? reject(err) : resolve())))
}

/** `db.close` as a promise. */
export function lokiClose(db: Loki): Promise<void> {
  return new Promise((resolve, reject) => db.close((err?: unknown) => (err ? reject(err) : resolve())))
}
