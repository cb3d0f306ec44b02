// The msgpackr options @homedb/tables pins for commit payloads, as its spec states them
// (packages/tables/FORMAT.md › msgpackr options). The bench decodes payloads with plain msgpackr as a baseline, with
// exactly the options the format fixes; it reads them from the spec, not from the package's internals.

/** packages/tables/FORMAT.md › msgpackr options (pinned). */
export const TABLES_PACKR_OPTIONS = Object.freeze({
  useRecords: false,
  sequential: false,
  variableMapSize: true,
  moreTypes: false,
  structuredClone: false,
  useFloat32: 0,
  int64AsType: 'bigint',
  useBigIntExtension: false,
  largeBigIntToFloat: false,
  encodeUndefinedAsNil: false,
  mapsAsObjects: true,
  copyBuffers: true,
  bundleStrings: false,
} as const)
