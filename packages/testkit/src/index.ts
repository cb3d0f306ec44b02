// Public surface of @homedb/testkit, the private test kit of the homedb repository (never published): one way to
// wrap a file layer, a fault-injecting layer built on it, a simulated file system with power-loss semantics, one
// seeded RNG, temporary directories.
export {
  type Fault,
  type FaultSpec,
  FaultyFileLayer,
  FILE_OPS,
  type FileCall,
  type FileOp,
  ioError,
  isSegment,
  isSnapshot,
} from './faulty-file-layer.js'
export type { FileHandleLike, FileLayer, OpenMode, OpenOptions } from './file-layer-shape.js'
export { plain } from './plain.js'
export { type Rng, SEED_ENV, seededRng, seedFromEnv, withSeed } from './rng.js'
export { SimFs, type SimFsOptions } from './sim-fs.js'
export {
  type BitFlip,
  CRASH_MODES,
  type CrashMode,
  type CrashOptions,
  type CrashReport,
  type FiredFault,
  isInjected,
  isSimCrash,
  type LockOnBoot,
  SIM_OPS,
  type SimCall,
  type SimCounters,
  type SimErrorCode,
  type SimFaultSpec,
  type SimOp,
} from './sim-types.js'
export { dirBytes, tempDir } from './temp-dir.js'
export { type FileLayerOverrides, wrapFileLayer, wrapHandle } from './wrap-file-layer.js'
