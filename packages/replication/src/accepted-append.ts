// An append a home acknowledged, as its onAccepted hook receives it: a public type in a file of its own so the
// handlers' shared context (internal/home-context.ts) carries the hook without importing home-service.ts.

/** An append a home acknowledged (see `onAccepted`). */
export interface AcceptedAppend {
  readonly user: string
  /** The homeEpoch the home accepted it under. */
  readonly epoch: number
  readonly logId: string
  /** First and last seq it added. */
  readonly from: number
  readonly to: number
}
