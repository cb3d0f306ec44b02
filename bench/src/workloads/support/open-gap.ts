// The cause the goals table gives when an open misses its floor (msgpackr-decoding the same payloads): shared by the
// workloads that open a db (open-reload, compaction), so they say the same thing.

/** What stands between homedb's open and decoding its payloads alone, for the goals table. */
export const OPEN_GAP =
  'keeping the rows: decoding the same payloads into a Map (`msgpackr-decode-kept` in open-reload) costs most of ' +
  'the gap by itself, because the garbage collector copies and promotes every decoded row that stays alive, which ' +
  'the decode-only floor (rows dropped at once, dying young) never pays; what homedb adds over that floor is the ' +
  "tables' own work (operation checks, freezing values, Map inserts: ratio `homedb/msgpackr-decode-kept`) and the " +
  "log's part (reading the files, CRC32C and chain per frame), measured apart as `log-read`"
