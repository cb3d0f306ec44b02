// The error codes as types: LOG_INCOMPATIBLE is gone (it was never thrown), LOG_NEED_SNAPSHOT belongs to
// LogReadError, and every category narrows `code` to its own codes.
import { describe, expectTypeOf, it } from 'vitest'
import type { LogErrorCode, LogInputError, LogInternalError, LogReadError } from '../src/index.js'

describe('LogErrorCode', () => {
  it('has no LOG_INCOMPATIBLE and has LOG_INTERNAL', () => {
    expectTypeOf<'LOG_INCOMPATIBLE'>().not.toExtend<LogErrorCode>()
    expectTypeOf<'LOG_INTERNAL'>().toExtend<LogErrorCode>()
  })

  it('puts LOG_NEED_SNAPSHOT on LogReadError, not on LogInputError', () => {
    expectTypeOf<ConstructorParameters<typeof LogInputError>[0]>().toEqualTypeOf<
      'LOG_FRAME_TOO_LARGE' | 'LOG_BAD_FRAME' | 'LOG_POSITION_MISMATCH'
    >()
    expectTypeOf<LogReadError['code']>().toExtend<LogErrorCode>()
    expectTypeOf<LogInternalError['code']>().toExtend<LogErrorCode>()
  })
})
