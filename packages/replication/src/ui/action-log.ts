// Where the operator page's audit lines go by default: pino JSON lines on stdout (the logger fastify uses for
// requests), when the server was asked to log. An explicit `ui.log` wins.
import { pino } from 'pino'
import type { OperatorUiOptions } from '../operator-ui-options.js'

/** `ui` with a pino logger for its actions when `logger` is true and it names none. */
export function withActionLog(ui: OperatorUiOptions | undefined, logger: boolean | undefined): OperatorUiOptions {
  const given = ui ?? {}
  if (given.log !== undefined || logger !== true || given.enabled === false) return given
  return { ...given, log: pino({ base: { component: 'homedb-ui' } }) }
}
