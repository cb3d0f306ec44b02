// The cause the goals table gives when an open misses its floor (msgpackr-decoding the same payloads): shared by the
// workloads that open a db (open-reload, compaction), so they say the same thing.

/** What stands between homedb's open and decoding its payloads alone, for the goals table. */
export const OPEN_GAP =
  'the tables part of open, beyond decoding: applying every operation to its table (Map inserts, read-only ' +
  "values), @homedb/tables' levers of issue 14 (bulk decode at open); the log's part (reading the files, CRC32C " +
  'and chain per frame, a batch of frames per read step) is measured apart as `log-read` in open-reload'
