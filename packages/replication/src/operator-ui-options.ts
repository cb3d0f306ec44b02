// Options of the operator page (`/ui`) that home servers and the embedded directory serve: whether it is served,
// where the operator's actions are logged, how long a login lasts and how much the live view lists. The page itself
// and its server side live in `src/ui/` and the package's `ui/` folder (PROTOCOL.md, "Operator page").

/**
 * Receives the operator page's audit lines: logins (accepted and refused, with the client address), logouts, moves
 * started and how they ended, token rotations. A pino logger fits as is.
 */
export interface UiActionLog {
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
}

/** Options of the operator page served at `/ui` (see PROTOCOL.md, "Operator page"). */
export interface OperatorUiOptions {
  /** Serve `/ui`. Default true; without an admin token the page only says that it needs one. */
  readonly enabled?: boolean
  /**
   * Where operator actions are logged. Default: `startHomeServer` and `startDirectory` log them as pino JSON lines
   * on stdout when `logger` is true (`homedb serve` and `homedb directory` always do); `HomeService.open` does not.
   */
  readonly log?: UiActionLog
  /** How long a login lasts, ms. Default 8 h. */
  readonly sessionTtlMs?: number
  /** Logins kept at most; a new one past it ends the oldest. Default 64. */
  readonly maxSessions?: number
  /** Users listed in the live view at most (the page's filter finds the others). Default 500. */
  readonly maxListedUsers?: number
}
