// The one error class of the chaos proxy: bad options are refused with a stable code and the offending value,
// before any socket is opened.

/** Stable codes of `ChaosProxyError`. */
export type ChaosProxyErrorCode = 'CHAOS_BAD_OPTIONS'

/** Thrown by `startChaosProxy` for options it cannot honour; nothing is listening when it is thrown. */
export class ChaosProxyError extends Error {
  override readonly name = 'ChaosProxyError'
  /** A stable string code. */
  readonly code: ChaosProxyErrorCode
  /** The option at fault and the value given. */
  readonly context: { readonly option: string; readonly value: unknown }

  constructor(code: ChaosProxyErrorCode, message: string, context: { option: string; value: unknown }) {
    super(message)
    this.code = code
    this.context = context
  }
}

/** A `CHAOS_BAD_OPTIONS` error for `option`, which was given `value`. */
export function badOption(option: string, value: unknown, why: string): ChaosProxyError {
  return new ChaosProxyError('CHAOS_BAD_OPTIONS', `chaos proxy option ${option}: ${why} (got ${String(value)})`, {
    option,
    value,
  })
}
