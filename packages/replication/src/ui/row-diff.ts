// What one page of the operator view has already received of a list of rows (users): the first event sends the
// whole list, later ones only the rows that changed or appeared and the names that left, so a page watching 500
// users receives what changed each second, not 500 rows.

/** The rows to send: the whole list (`full`), or the changed rows and the removed names. */
export interface RowChanges<R> {
  readonly full: boolean
  readonly rows: readonly R[]
  readonly removed: readonly string[]
}

/** The rows one subscriber holds, by name (as the JSON it received). */
export class RowDiff<R extends { readonly name: string }> {
  private sent: Map<string, string> | undefined

  /** The changes from what was sent last to `rows` (all of them the first time, or after {@link reset}). */
  next(rows: readonly R[]): RowChanges<R> {
    const previous = this.sent
    const sent = new Map<string, string>()
    const changed: R[] = []
    for (const row of rows) {
      const text = JSON.stringify(row)
      sent.set(row.name, text)
      if (previous?.get(row.name) !== text) changed.push(row)
    }
    this.sent = sent
    if (previous === undefined) return { full: true, rows: changed, removed: [] }
    const removed = [...previous.keys()].filter((name) => !sent.has(name))
    return { full: false, rows: changed, removed }
  }
}
