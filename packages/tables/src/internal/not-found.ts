// The refusal of `update` on a key (or a single table) that holds nothing, shared by the tables that have `update`.
import { TablesInputError } from '../errors.js'

/** `TABLES_NOT_FOUND` for `update` of `table` at `key` (and `key2`), or of an empty single table. */
export function notFound(table: string, key?: unknown, key2?: unknown): TablesInputError {
  const show = (k: unknown) => (typeof k === 'string' ? JSON.stringify(k) : String(k))
  const where =
    key === undefined
      ? 'it holds no value'
      : key2 === undefined
        ? `key ${show(key)} does not exist`
        : `key ${show(key)}, key2 ${show(key2)} does not exist`
  const context: Record<string, unknown> = { table }
  if (key !== undefined) context.key = key
  if (key2 !== undefined) context.key2 = key2
  return new TablesInputError(
    'TABLES_NOT_FOUND',
    `table "${table}": update() found nothing to update: ${where}`,
    context,
  )
}
