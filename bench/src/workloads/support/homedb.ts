// The homedb schema the workloads use: one lookupTable of the shared small records, keyed by their id.
import { lookupTable, schema } from '@homedb/tables'
import type { SmallRecord } from '../../records.js'

/** `rows`: record id → record. */
export const RowsSchema = schema({ rows: lookupTable<string, SmallRecord>() })
