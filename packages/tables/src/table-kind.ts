// The six kinds of table, named as the schema's factories name them.

/** The six kinds of table. Recorded in every log operation (see FORMAT.md), so a kind change is detected at open. */
export type TableKind = 'single' | 'lookupTable' | 'list' | 'lookupList' | 'lookupSet' | 'lookupMap'
