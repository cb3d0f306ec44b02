// The keys of the keyed tables: what a key (or a lookupSet member, or a lookupMap's second key) may be.

/** A key of a keyed table (and a member of a lookupSet): a string or a finite number. */
export type Key = string | number
